"""A helper process forked from this one, spoken to over a pipe.

Used where a job's slow, independent work (importing MLflow and logging, importing
matplotlib and drawing) can run on the other core while the job trains. The helper
never returns into the caller's code: it runs ``serve`` and exits (``os._exit``: no
atexit handlers, no second flush of the caller's buffers). It ignores Ctrl-C, which
reaches every process of the terminal's group: the job decides how things end, and
the helper sees its pipe close when the job is gone, however it went (kill -9 too).
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import time
from multiprocessing.connection import Connection
from typing import Callable


def can_fork() -> bool:
    """Forking is safe and exists: Linux (macOS has fork, but its system libraries do not survive it)."""
    return sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods()


def available(module: str) -> bool:
    """A helper can take ``module``'s import off this process: fork exists and the
    module is not imported yet (a sweep's forked workers inherit their launcher's)."""
    return module not in sys.modules and can_fork()


def fork(serve: Callable[[Connection], None]) -> tuple[Connection, int]:
    """(the caller's end of the pipe, the helper's pid); the helper runs ``serve(its end)``."""
    caller_end, helper_end = multiprocessing.Pipe()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            caller_end.close()
            serve(helper_end)
            status = 0
        finally:
            os._exit(status)
    helper_end.close()
    return caller_end, pid


def end(conn: Connection, pid: int) -> None:
    """End a helper whose work is done or no longer wanted, at once (it may be mid-import)."""
    conn.close()
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def wait(pid: int, timeout: float) -> bool:
    """Reap the helper ``pid`` once it exits, waiting at most ``timeout`` seconds: False
    if it still runs then. (Polled: ``os.waitpid`` itself has no timeout.)"""
    deadline = time.monotonic() + timeout
    pause = 0.001
    while True:
        try:
            if os.waitpid(pid, os.WNOHANG)[0]:
                return True
        except ChildProcessError:  # reaped already
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(pause)
        pause = min(2 * pause, 0.01)
