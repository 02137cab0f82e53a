"""A sweep's worker stops when its launcher's SIGTERM comes, even if the signal's own
raise is lost (src/workers.py). The end-to-end kills: tests/test_crash_safety.py."""
from __future__ import annotations

import multiprocessing
import os
import signal
import sys

import pytest

from src import workers

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")


class _SignalledWhileFinalized:
    """Its finalizer has this process sent SIGTERM and lets Python handle it there, where
    an exception is only printed ("Exception ignored in ..."), as in numba's callbacks."""

    def __del__(self):
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):  # bytecode to run: the handler runs at the next check
            pass


def _job(report) -> None:
    """A worker's job (this process's parent is the launcher) whose SIGTERM comes while a
    finalizer runs: what reached the job, and what reached Python's "Exception ignored"
    printer, reported to the parent."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    printed = []
    sys.unraisablehook = lambda unraisable: printed.append(type(unraisable.exc_value).__name__)
    try:
        with workers.dying_with_launcher():
            _SignalledWhileFinalized()  # made and dropped: its __del__ runs here
        report.send(("finished", printed))
    except workers.LauncherGone as gone:
        report.send((f"stopped: {gone}", printed))
    finally:
        signal.alarm(0)


def test_a_lost_raise_still_stops_the_job(monkeypatch):
    monkeypatch.setenv(workers.LAUNCHER_ENV, str(os.getpid()))  # this process launched the job
    mine, theirs = multiprocessing.get_context("fork").Pipe()
    job = multiprocessing.get_context("fork").Process(target=_job, args=(theirs,))
    job.start()
    try:
        assert mine.poll(30), "the job said nothing"
        said = mine.recv()
    finally:
        job.join(30)
    outcome, printed = said
    assert outcome == f"stopped: the sweep's launching process {os.getpid()} stopped this job (SIGTERM)"
    assert printed == []  # raised again: no "Exception ignored" traceback for the lost one
