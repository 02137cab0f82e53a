"""A job's tracking in a helper process, off the critical path of its training.

Importing MLflow and opening its store take ~1.5 s of CPU, more than the default
run's training. A helper process imports MLflow on the other core: the train CLI
forks it as it starts (``prefork``), before Hydra composes the config; elsewhere
``track`` forks it as the job starts. Once the job knows its run (``runs.describe``: its name,
params, sweep), the helper opens the store and the run and logs what the job sends
it (cost points, then the run directory) while the job trains; the job waits for it
only at the end. Until then the helper has touched no store, so a job that turns
out untracked just ends it. The helper runs the in-process code
(``runs.create_run``, ``Run``, ``runs.end``): the same names, tags, params, parent
run, and the same endings:

- the job raises: the helper ends the run FAILED (KILLED on Ctrl-C or when the
  sweep's launcher died) with the message, then the job re-raises;
- the job is killed: the pipe closes, and the helper ends the run KILLED at once
  (killed together, the next run reaps it: src/tracking/reap.py);
- the store fails (a server gone, a broken database): the job, its run directory
  complete, ends with the helper's TrackingLost line and the relog command.

A server that does not answer still fails the job before training
(``store.check_store``), and Ctrl-C, which reaches every process of the terminal's
group, is the job's to handle: the helper ignores it. A sweep's jobs in forked workers
talk to their sweep's one helper instead (src/tracking/sweep_helper.py), through the same
``HelperRun``. Where the job process has imported MLflow already, a helper would save
nothing: tracking stays in-process.
"""
from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import time
from multiprocessing.connection import Connection
from pathlib import Path

from omegaconf import DictConfig

from .. import forked
from . import runs
from .store import check_store, import_store_code, open_store

HELPER_TIMEOUT = 600.0  # seconds the job waits for an answer: a wedged helper must not hang it for ever
MULTIRUN_FLAGS = ("-m", "--multirun")

# Where a sweep's jobs reach the sweep's helper (src/tracking/sweep_helper.py): set in the
# launcher before it forks its workers, which inherit it.
sweep_socket: str | None = None

# A helper forked before Hydra composes the config (``prefork``): (pipe end, its pid,
# the pid of the process that forked it; a sweep's forked workers must not take it).
_preforked: tuple | None = None


def pays() -> bool:
    """A helper saves the MLflow imports: only where they are still to come, and fork exists."""
    return forked.available("mlflow")


def prefork(argv: list[str]) -> None:
    """Start the helper now, as the train CLI starts: it imports MLflow and opens the store
    while Hydra imports and composes (~0.2 s sooner than ``track`` could). Not for a sweep
    (src/tracking/sweep_helper.py forks its own). If the job turns out untracked, ``track`` ends the
    helper; if no job runs at all (``--help``), the CLI's exit does."""
    global _preforked
    if _preforked is None and pays() and not set(argv) & set(MULTIRUN_FLAGS):
        job_pid = os.getpid()
        _preforked = (*forked.fork(lambda conn: _serve(conn, job_pid)), job_pid)
        atexit.register(_discard_preforked)


def _take_preforked() -> tuple | None:
    """The pre-forked helper (pipe end, pid), if this process forked one, now the caller's."""
    global _preforked
    helper, _preforked = _preforked, None
    if helper is not None and helper[2] != os.getpid():
        return None  # forked by the launcher of this sweep worker: not ours
    return helper and helper[:2]


def _discard_preforked() -> None:
    _end(_take_preforked())


def _end(helper: tuple | None) -> None:
    """End a helper no run needs (it holds nothing yet, and may still be importing)."""
    if helper is not None:
        forked.end(*helper)


@contextlib.contextmanager
def track(cfg: DictConfig):
    """``runs.start``'s contract (yields an object with ``log_cost`` and ``log_result``),
    its work done by a helper process where that pays."""
    helper = _take_preforked()
    sweep = sweep_socket if runs.sweep_job() is not None else None
    if not runs.enabled(cfg) or not (sweep or pays()):
        _end(helper)
        with runs.start(cfg) as run:
            yield run
        return
    try:
        check_store()
    except BaseException:
        _end(helper)
        raise
    if sweep:
        helper = (_connect(sweep), None)
    elif helper is None:
        job_pid = os.getpid()
        helper = forked.fork(lambda conn: _serve(conn, job_pid))
    run = HelperRun(*helper)
    run.open(runs.describe(cfg))
    try:
        yield run
    except runs.TrackingLost:
        run.close()
        raise
    except BaseException as error:
        with contextlib.suppress(runs.TrackingLost):  # the job's own error is the one to report
            run.finish(*runs.failure(error))
        raise
    run.finish("FINISHED")


def _connect(path: str) -> Connection:
    """A connection to the sweep's helper at ``path``; TrackingLost if it is gone."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError as error:
        sock.close()
        raise runs.TrackingLost(runs.lost_message(f"the sweep's tracking helper is gone ({error.strerror})", None, None)) from None
    return Connection(sock.detach())


class HelperRun:
    """The job's side: cost points go to the helper in batches; ``log_result`` and
    ``finish`` wait for its answer. ``pid``: the helper's, if it is this job's own."""

    def __init__(self, conn, pid: int | None):
        self.conn, self.pid = conn, pid
        self.out_dir = None
        self._gone = False  # the helper died mid-run
        self._costs: list[tuple[int, float]] = []
        self._last_send = time.monotonic()

    def open(self, description: dict) -> None:
        """Have the helper open the run ``description`` describes (``runs.describe``)."""
        try:
            self.conn.send(("open", {**description, "pid": os.getpid()}))
        except OSError:  # gone already: the job trains on, log_result says so
            self._gone = True

    def log_cost(self, step: int, value: float) -> None:
        if not self._gone and self.conn.poll():  # the helper speaks first only when it could not open the store
            try:
                message = self.conn.recv()
            except (EOFError, OSError):  # it died: the training goes on, log_result says so
                self._gone = True
            else:
                self._answer(message)
        self._costs.append((int(step), float(value)))
        if len(self._costs) >= runs.COST_BATCH or time.monotonic() - self._last_send > runs.FLUSH_SECONDS:
            self._send_costs()

    def _send_costs(self) -> None:
        if self._costs and not self._gone:
            try:
                self.conn.send(("costs", self._costs))
            except OSError:  # as above
                self._gone = True
        self._costs = []
        self._last_send = time.monotonic()

    def log_result(self, out_dir: str | Path, train_seconds: float | None = None) -> None:
        self.out_dir = out_dir
        self._send_costs()
        self._ask("result", str(out_dir), train_seconds)

    def finish(self, status: str, error: str | None = None) -> None:
        """End the run (the job's error, if any, in its ``error`` tag) and the helper."""
        try:
            self._send_costs()
            self._ask("end", status, error)
        finally:
            self.close()

    def close(self) -> None:
        self.conn.close()
        if self.pid is not None:  # a helper of this job's own (a sweep's serves on)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)

    def _ask(self, *message) -> None:
        """Send, wait for the answer; TrackingLost if the helper says the store failed
        (or says nothing)."""
        try:
            self.conn.send(message)
            answer = self.conn.recv() if self.conn.poll(HELPER_TIMEOUT) else ("lost", f"no answer in {HELPER_TIMEOUT:.0f} s", None)
        except (EOFError, OSError) as error:
            answer = ("lost", f"its tracking helper process {self.pid} is gone ({type(error).__name__})", None)
        self._answer(answer)

    def _answer(self, answer: tuple) -> None:
        if answer[0] == "lost":
            _, why, run_id = answer
            if self.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)
            raise runs.TrackingLost(runs.lost_message(why, self.out_dir, run_id))


def _serve(conn, job_pid: int) -> None:
    """The helper's work: import MLflow, then serve the job's run (``serve_run``). Until the
    job's "open" it only imports: a helper ended then (an untracked run) has touched no
    store. Ctrl-C is ignored (src/forked.py)."""
    import_store_code()
    serve_run(conn, job_pid)


def serve_run(conn, job_pid: int | None) -> None:
    """Open the store and the run the job describes, then log what the job sends until it
    says how the run ends, or goes away (the run then ends KILLED). Also a sweep's helper's,
    for each of its jobs (src/tracking/sweep_helper.py)."""
    try:
        _, description = conn.recv()  # ("open", what the run is)
    except (EOFError, OSError):  # no run wanted, or the job is gone: nothing made
        return
    job_pid = description.get("pid", job_pid)

    def answer(*message) -> None:
        with contextlib.suppress(OSError):  # the job is gone: the next receive says so (or the run has ended)
            conn.send(message)

    run, why = None, None
    try:
        client, experiment_id = open_store()
        run = runs.create_run(client, experiment_id, description, pid=job_pid)
    except Exception as error:  # noqa: BLE001 (answered to the job, which says it in one line)
        why = runs.store_failure(error)
        answer("lost", why, None)  # at once: the job stops at its next cost point
    while True:
        try:
            kind, *args = conn.recv()
        except (EOFError, OSError):  # the job is gone (kill -9, the OOM killer), or gave up on the store
            if run is not None and not run.lost:
                runs.end(run.client, run.run_id, "KILLED",
                         f"its process {job_pid} on this host is gone (killed); ended KILLED by its tracking helper")
            return
        if kind == "costs":
            if run is not None:
                for step, value in args[0]:
                    run.log_cost(step, value)
            continue
        if run is None:  # nothing to log into: the job hears why
            answer("lost", why, None)
        elif kind == "result":
            try:
                run.log_result(*args)
                answer("ok")
            except runs.TrackingLost:
                answer("lost", run.lost, run.run_id)
        elif kind == "end":
            status, error = args
            if status != "FINISHED":
                runs.end(run.client, run.run_id, status, error, run)
                answer("ok")
            else:
                try:
                    run.client.set_terminated(run.run_id, "FINISHED")
                    answer("ok")
                except Exception as failed:  # noqa: BLE001
                    answer("lost", runs.store_failure(failed), run.run_id)
        if kind == "end":
            return
