"""A study stage's independent runs on every core.

A study (batch norm's rate grid, the optimizer race) is a few dozen short trainings
that depend on nothing but their settings; one after the other they left a core idle
for half a minute of ``dvc repro``. ``starmap`` runs them in a pool of processes forked
from the stage (warm: its imports and composed config inherited), one BLAS thread
each, results in the order of the arguments, so the record is the same as a serial
run's. A worker dies with its stage (kill -9 included: ``workers.die_with_parent``)
and leaves Ctrl-C to it; a worker killed fails the stage (BrokenProcessPool), never hangs it. Without fork (macOS, Windows) the runs are serial.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Iterable

from threadpoolctl import threadpool_limits

from ..forked import can_fork
from ..workers import die_with_parent


def _worker_start() -> None:
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threadpool_limits(1, user_api="blas")


def starmap(function: Callable, arguments: Iterable[tuple]) -> list:
    """``[function(*args) for args in arguments]``, on every core, one BLAS thread a run."""
    arguments = list(arguments)
    processes = min(len(arguments), os.cpu_count() or 1)
    if processes <= 1 or not can_fork():
        with threadpool_limits(1, user_api="blas"):  # as in a worker (_worker_start)
            return [function(*args) for args in arguments]
    # concurrent.futures rather than multiprocessing.Pool: a worker killed mid-run (the OOM
    # killer) raises BrokenProcessPool here, where Pool would wait for its result for ever.
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"), initializer=_worker_start) as pool:
        return list(pool.map(function, *zip(*arguments)))
