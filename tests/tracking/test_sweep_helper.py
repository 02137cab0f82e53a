"""src/tracking/sweep_helper.py: the launcher's wait for the sweep's helper at the end is
bounded; a helper that does not finish is killed, with a warning, and nothing is left."""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pytest

from src import forked
from src.tracking.sweep_helper import SweepHelper

pytestmark = pytest.mark.skipif(not forked.can_fork(), reason="fork start method only on Linux")


def helper(serve) -> SweepHelper:
    """A SweepHelper around a forked stand-in that has made the parent run."""
    conn, pid = forked.fork(serve)
    made = SweepHelper(conn, pid, tempfile.mkdtemp(prefix="test-sweep-helper-"))
    made.opened = True
    return made


def ends_when_the_launcher_is_done(conn) -> None:
    try:
        conn.recv()
    except EOFError:
        time.sleep(0.2)  # its last runs' logging


def hangs(conn) -> None:  # an MLflow call that never returns
    time.sleep(120)


def test_a_helper_that_finishes_is_waited_for(capsys):
    made = helper(ends_when_the_launcher_is_done)
    start = time.monotonic()
    made.close(timeout=30)
    assert 0.15 < time.monotonic() - start < 10  # its last logging waited for, not cut short
    assert not Path(f"/proc/{made.pid}").exists()  # reaped
    assert not Path(made.folder).exists() and capsys.readouterr().err == ""


def test_a_helper_that_hangs_is_killed_after_the_timeout_with_a_warning(capsys):
    made = helper(hangs)
    start = time.monotonic()
    made.close(timeout=0.5)
    assert 0.5 <= time.monotonic() - start < 10
    assert not Path(f"/proc/{made.pid}").exists()  # killed and reaped: no zombie either
    assert not Path(made.folder).exists()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"tracking helper (pid {made.pid}) had not finished after 0.5 s; killed it" in err


def test_wait_reports_whether_the_process_ended():
    conn, pid = forked.fork(hangs)
    assert forked.wait(pid, 0.2) is False
    forked.end(conn, pid)
    conn, pid = forked.fork(lambda conn: None)
    assert forked.wait(pid, 30) is True
    assert forked.wait(pid, 0) is True  # reaped already
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
