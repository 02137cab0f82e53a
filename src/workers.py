"""A sweep's workers die with the process that launched them.

``kill -9`` of a sweep's launching process (the OOM killer, a cancelled CI job)
used to leave its joblib workers training for ever. ``mark_launcher`` (every CLI,
through src/cli.py) records the launching process in the environment its workers
inherit; while a job runs, ``dying_with_launcher`` (src/train.py) has Linux send
the job's worker SIGTERM when that process dies (``prctl(PR_SET_PDEATHSIG)``) and
turns the signal into ``LauncherGone``, which ends the job's MLflow run KILLED
before the worker exits. The same in forked workers (``hydra/launcher=joblib_fork``)
and in Hydra's loky workers (``hydra/launcher=joblib``), both children of the
launcher; with ``hydra/launcher=basic`` the jobs run in the launcher itself: nothing
to do. Between jobs a worker is the pool's again: SIGTERM's default action, which
the pool relies on to stop idle workers. Elsewhere than Linux this does nothing.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import time

LAUNCHER_ENV = "IMPROVING_DNN_LAUNCHER_PID"
PR_SET_PDEATHSIG = 1  # linux/prctl.h
ENDING_SECONDS = 3  # what a job has to end its run once its launcher is gone


class LauncherGone(KeyboardInterrupt):
    """The sweep's launching process died (or stopped this job): its run ends KILLED."""


_gone: str | None = None  # LauncherGone's message, once the signal came


def mark_launcher() -> None:
    """Record this process as the launcher of whatever jobs it starts."""
    os.environ[LAUNCHER_ENV] = str(os.getpid())


def _launcher() -> int | None:
    """The launcher's pid if this process is one of its workers (a child of it), else None.
    A job in the launcher itself, or in a process someone else started (a Ray worker),
    is left alone."""
    launcher = os.environ.get(LAUNCHER_ENV)
    if not sys.platform.startswith("linux") or not launcher or int(launcher) == os.getpid():
        return None
    if os.getppid() != int(launcher) and os.path.exists(f"/proc/{launcher}"):
        return None
    return int(launcher)


@contextlib.contextmanager
def dying_with_launcher():
    """Run a job so that its worker gets LauncherGone when the launcher dies. After a
    LauncherGone the handler stays (the job ends its run and exits); otherwise the
    worker's SIGTERM is the pool's again."""
    launcher = _launcher()
    if launcher is None:
        yield
        return
    global _gone
    previous = signal.signal(signal.SIGTERM, _sigterm)
    die_with_parent(signal.SIGTERM)
    try:
        if os.getppid() != launcher:  # it died before the request was in place
            _gone = f"the sweep's launching process {launcher} is gone"
        stop_if_launcher_gone()
        yield
        stop_if_launcher_gone()
    finally:
        if _gone is None:
            die_with_parent(0)
            signal.signal(signal.SIGTERM, previous)


def die_with_parent(signum: int = signal.SIGKILL) -> None:
    """Have Linux send this process ``signum`` when its parent process dies (0: no longer)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signum)


def stop_if_launcher_gone() -> None:
    """Raise LauncherGone if the signal has come. The handler's own raise can be lost: a
    signal handled while Python runs a finalizer or a C library's callback (numba loading
    its kernel, say) only gets its exception printed, and the job would train on."""
    if _gone is not None:
        raise LauncherGone(_gone)


def _sigterm(signum, frame) -> None:
    # Once is enough (a second SIGTERM must not cut ending the run short), and
    # ending it must not take for ever (a store that hangs): SIGALRM's default
    # action ends the process ENDING_SECONDS later whatever it is doing.
    global _gone
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.alarm(ENDING_SECONDS)
    launcher = int(os.environ[LAUNCHER_ENV])
    how = "is gone" if _orphaned_soon(launcher) else "stopped this job (SIGTERM)"
    _gone = f"the sweep's launching process {launcher} {how}"
    # A raise lost in a finalizer or callback is raised again (stop_if_launcher_gone): no
    # "Exception ignored" traceback for it.
    hook = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: None if isinstance(unraisable.exc_value, LauncherGone) else hook(unraisable)
    stop_if_launcher_gone()


def _orphaned_soon(launcher: int, seconds: float = 0.2) -> bool:
    """Whether this process's parent is no longer ``launcher`` within ``seconds``: Linux sends
    the parent-death signal while the parent exits, a moment before it gives its children a
    new parent, so a signal from a dying launcher can arrive while it is still the parent."""
    deadline = time.monotonic() + seconds
    while os.getppid() == launcher:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True
