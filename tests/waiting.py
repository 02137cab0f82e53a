"""Waiting, bounded, for something a real process does (a run opening, a worker dying)."""
from __future__ import annotations

import contextlib
import subprocess
import time

import pytest


def wait_for(condition, what: str, timeout: float = 120, process: subprocess.Popen | None = None, every: float = 0.3):
    """``condition()``'s first truthy value, polled every ``every`` s. An exception counts as
    not yet (a store may be mid-creation, a run not yet made); fails after ``timeout`` s,
    or at once if ``process`` (the one that should make it happen) has ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            found = condition()
            if found:
                return found
        if process is not None and process.poll() is not None:
            pytest.fail(f"never: {what} (the process ended first, status {process.returncode})")
        time.sleep(every)
    pytest.fail(f"never: {what} (waited {timeout:g} s)")
