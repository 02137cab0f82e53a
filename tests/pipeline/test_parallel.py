"""src/pipeline/parallel.py: a study's runs on every core give the serial run's results,
in order; a worker's error is the stage's; no worker outlives a killed stage."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy  # noqa: F401 (loaded before the pool, as in a stage: threadpoolctl limits loaded libraries)
import pytest

from src.errors import InputError
from src.pipeline import parallel
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


def where(index: int, value: float) -> tuple[int, float, int]:
    return index, value * 2, os.getpid()


def fail_on(index: int) -> int:
    if index == 3:
        raise InputError(f"run {index}: no good")
    return index


def test_results_in_order_from_other_processes():
    results = parallel.starmap(where, [(i, i / 10) for i in range(12)])
    assert [(i, v) for i, v, _ in results] == [(i, i / 5) for i in range(12)]
    if (os.cpu_count() or 1) > 1:
        assert os.getpid() not in {pid for *_, pid in results}


def test_a_workers_error_is_raised_in_the_stage():
    with pytest.raises(InputError, match="run 3: no good"):
        parallel.starmap(fail_on, [(i,) for i in range(6)])


def test_one_run_or_no_fork_runs_here(monkeypatch):
    assert parallel.starmap(where, [(0, 1.0)])[0][2] == os.getpid()
    monkeypatch.setattr(sys, "platform", "darwin")
    assert {pid for *_, pid in parallel.starmap(where, [(i, 1.0) for i in range(4)])} == {os.getpid()}


def blas_threads(_: int) -> list[int]:
    from threadpoolctl import threadpool_info

    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


def test_every_run_has_one_blas_thread_in_a_worker_or_here(monkeypatch):
    for threads in parallel.starmap(blas_threads, [(i,) for i in range(4)]):
        assert threads and set(threads) == {1}
    monkeypatch.setattr(sys, "platform", "darwin")  # no fork: the runs are serial, here
    for threads in parallel.starmap(blas_threads, [(i,) for i in range(4)]):
        assert threads and set(threads) == {1}


def killed_on(index: int) -> int:
    if index == 2:
        os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer would
    return index


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: the runs are serial")
def test_a_worker_killed_fails_the_stage_instead_of_hanging_it():
    from concurrent.futures.process import BrokenProcessPool

    with pytest.raises(BrokenProcessPool):
        parallel.starmap(killed_on, [(i,) for i in range(6)])


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: the runs are serial")
def test_no_worker_outlives_a_killed_stage(tmp_path):
    code = ("import os, time\n"
            "from src.pipeline import parallel\n"
            "def slow(i):\n"
            "    os.write(1, f'{os.getpid()}\\n'.encode())  # one write: the two workers' lines cannot interleave\n"
            "    time.sleep(300)\n"
            "parallel.starmap(slow, [(i,) for i in range(2)])\n")
    stage = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    workers = [int(stage.stdout.readline()) for _ in range(2)]
    os.kill(stage.pid, signal.SIGKILL)
    stage.wait(timeout=60)

    def gone(pid: int) -> bool:
        status = Path(f"/proc/{pid}/status")
        return not status.exists() or "zombie" in status.read_text()

    wait_for(lambda: all(gone(pid) for pid in workers), "the killed stage's workers gone", timeout=10, every=0.1)
