"""A tracked sweep's tracking in one helper process, off the launcher's critical path.

A tracked sweep's launcher used to import MLflow and make the parent run (~1.5 s)
before forking its workers, the other core idle meanwhile. Now the train CLI, given
``-m``, forks one helper as it starts (``prefork``): it imports MLflow while Hydra
composes and checks the sweep's configs, and the launcher never imports MLflow. The
sweep callback hands it the parent run to make and goes on (``SweepHelper``); the
jobs, in workers forked from the launcher, connect to it over a Unix socket (in a
folder only this user can enter) and talk to it as a single run talks to its helper
(src/tracking/background.py: ``HelperRun`` and ``serve_run``), one thread a job, their
MLflow calls one at a time. A job's run is made once its parent is.

Only where the jobs run in processes forked from the launcher
(``hydra/launcher=joblib_fork``, src/tracking/sweep.py ``jobs_forked_here``); with any other
launcher, or untracked, the callback ends it and the sweep tracks as before. The
endings are the in-process ones: a job's error ends its run FAILED (KILLED on Ctrl-C
or its launcher gone), a killed job's run ends KILLED (its connection closes), a sweep
that ends abnormally ends its parent FAILED and its unfinished children KILLED. With
the launcher killed, the parent is left RUNNING for the reaper, as before, and the
helper ends once its jobs' connections have closed.
"""
from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import socket
import sys
import tempfile
import threading
from multiprocessing.connection import Connection

from .. import forked
from . import background, runs
from .background import HELPER_TIMEOUT, MULTIRUN_FLAGS, pays, serve_run
from .store import import_store_code, open_store

SOCKET_NAME = "tracking"

_preforked: SweepHelper | None = None  # forked with -m, until the callback takes or ends it


def prefork(argv: list[str]) -> None:
    """Start the sweep's helper now, as the train CLI starts (only with -m)."""
    global _preforked
    if _preforked is None and pays() and set(argv) & set(MULTIRUN_FLAGS):
        _preforked = SweepHelper.fork()


def take(jobs_forked_here: bool) -> SweepHelper | None:
    """The helper, for the sweep callback, if the sweep's jobs run in processes forked from
    this one (they will connect to it); otherwise it is ended and None returned."""
    global _preforked
    helper, _preforked = _preforked, None
    if helper is not None and not jobs_forked_here:
        helper.close()
        return None
    if helper is not None:
        background.sweep_socket = helper.socket_path
    return helper


class SweepHelper:
    """The launcher's side: the parent run's making and ending, and the helper's life."""

    def __init__(self, conn, pid: int, folder: str):
        self.conn, self.pid, self.folder = conn, pid, folder
        self.opened = False  # asked to make the parent run
        self.socket_path = os.path.join(folder, SOCKET_NAME)

    @classmethod
    def fork(cls) -> SweepHelper:
        folder = tempfile.mkdtemp(prefix="improving-dnn-sweep-")  # 0700: only this user connects
        listening = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listening.bind(os.path.join(folder, SOCKET_NAME))
        listening.listen(64)
        conn, pid = forked.fork(lambda conn: _serve_sweep(conn, listening))
        listening.close()  # the helper accepts; the path stays for the jobs
        helper = cls(conn, pid, folder)
        atexit.register(helper.close)
        return helper

    def open_parent(self, name: str, tags: dict) -> None:
        """Have the helper make the parent run; not waited for (it may still be importing)."""
        self.opened = True
        self.conn.send(("parent", name, tags))

    def end_parent(self, status: str, error: str | None = None) -> None:
        """End the parent (not FINISHED: its children still RUNNING end KILLED); waits."""
        self.conn.send(("end", status, error))
        if self.conn.poll(HELPER_TIMEOUT):
            self.conn.recv()

    def close(self, timeout: float = HELPER_TIMEOUT) -> None:
        """No more runs: the helper ends once its jobs' connections have closed (at once
        if it made nothing: it may still be importing). One still running ``timeout``
        seconds later (an MLflow call that hangs) is killed, with a warning: the runs it
        leaves RUNNING are ended KILLED by the next run's reaper (src/tracking/reap.py)."""
        if self.opened:
            with contextlib.suppress(OSError):
                self.conn.close()
            if not forked.wait(self.pid, timeout):
                print(f"warning: the sweep's tracking helper (pid {self.pid}) had not finished after {timeout:g} s; "
                      "killed it. Runs it left RUNNING end KILLED when the next run starts (or: "
                      "python -m src.compare --reap).", file=sys.stderr)
                forked.end(self.conn, self.pid)
        else:
            forked.end(self.conn, self.pid)
        shutil.rmtree(self.folder, ignore_errors=True)


class _TakingTurns:
    """A job's connection, for a thread that holds the helper's lock except while it waits
    for the job: one thread at a time calls MLflow."""

    def __init__(self, conn, lock: threading.Lock):
        self._conn, self._lock = conn, lock

    def recv(self):
        self._lock.release()
        try:
            return self._conn.recv()
        finally:
            self._lock.acquire()

    def send(self, message) -> None:
        self._conn.send(message)


def _serve_sweep(conn, listening: socket.socket) -> None:
    """The helper: import MLflow, then serve the launcher (the parent run) on ``conn`` and
    each job (its run) on a connection of its own, until the launcher is done and every
    job's connection has closed."""
    import_store_code()
    lock = threading.Lock()
    parent_made = threading.Event()
    jobs: list[threading.Thread] = []

    def serve_job(job_conn) -> None:
        parent_made.wait()  # the parent's id tags the child
        with lock:
            serve_run(_TakingTurns(job_conn, lock), None)
        job_conn.close()

    def accept() -> None:
        while True:
            try:
                sock, _ = listening.accept()
            except OSError:
                return
            job = threading.Thread(target=serve_job, args=(Connection(sock.detach()),), daemon=True)
            job.start()
            jobs.append(job)

    threading.Thread(target=accept, daemon=True).start()
    client = experiment_id = parent = None
    while True:
        try:
            kind, *args = conn.recv()
        except (EOFError, OSError):  # the launcher is done, or gone (its parent left to the reaper)
            break
        with lock:
            if kind == "parent":
                try:
                    client, experiment_id = open_store()
                    parent = runs.create_parent(client, experiment_id, *args)
                except Exception:  # noqa: BLE001, S110 (each job hears it when its own run cannot be made)
                    pass
                parent_made.set()
            elif kind == "end":
                if parent is not None:
                    runs.end_parent(client, experiment_id, parent, *args)
                with contextlib.suppress(OSError):  # the launcher stopped waiting
                    conn.send(("ok",))
    parent_made.set()
    with contextlib.suppress(OSError):
        listening.close()
    for job in list(jobs):  # noqa: PERF101 (a copy: the accept thread may still add one)
        job.join()
