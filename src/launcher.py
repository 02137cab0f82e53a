"""Hydra's joblib launcher with forked workers (``hydra/launcher=joblib_fork``, the
default for sweeps).

Hydra's joblib launcher always uses joblib's loky backend, whose workers are
fresh interpreters: each imports MLflow, opens the SQLite store and loads numba
and matplotlib before its first job, ~2.6 CPU-s that a serial sweep pays once
and that on 2 cores outweigh short jobs. Here the workers are forked from the
launching process (joblib's process pool with the fork start method), so they start
warm; a tracked sweep's runs are logged by its tracking helper (src/tracking/sweep_helper.py),
which the workers reach over a socket, so neither they nor the launcher import MLflow.
Everything else is Hydra's: job numbers, output dirs, callbacks, returns.

Fork is safe here: the pool forks before any of its threads start, the parent
has no other thread then, and it holds no database connection (see
``tracking.store.open_store``). Where fork is unsafe or missing (macOS, Windows) this
is Hydra's loky launcher. Hydra loads plugins only from ``hydra_plugins``; the
class there is a shell around this one, because Hydra re-executes the modules of
that package in every job, which would reset the shared state below.
"""
from __future__ import annotations

import copy
import logging
import multiprocessing
from pathlib import Path
from typing import Sequence

from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, configure_log, filter_overrides, setup_globals
from hydra_plugins.hydra_joblib_launcher.joblib_launcher import JoblibLauncher
from omegaconf import OmegaConf

from .forked import can_fork

log = logging.getLogger(__name__)

# What every job shares (Hydra's context, the sweep config, the task function,
# Hydra's singletons), set just before the pool forks: the workers inherit it,
# so only a job's number and overrides cross the pipe, and the task function
# need not be picklable (a @hydra.main function is not, by reference).
_shared: tuple | None = None


def _run_job(idx: int, overrides: Sequence[str]) -> JobReturn:
    from hydra_plugins.hydra_joblib_launcher._core import execute_job

    job = execute_job(idx, overrides, *_shared)
    # The result goes back with pickle (by reference, unlike loky's cloudpickle),
    # and Hydra's configs refer to classes its plugin scans load more than once:
    # send plain copies.
    job.cfg, job.hydra_cfg = (OmegaConf.create(OmegaConf.to_container(c)) for c in (job.cfg, job.hydra_cfg))
    return job


class _ComposedOnce:
    """Hydra's config loader, composing each job's config once a sweep. Before any job
    starts, Hydra's sweeper composes every job's config to check it (and drops it); then
    each job composes its own again, ~0.06 s of CPU a job. Here the sweeper's configs are
    kept, and the workers, forked after the check, take a copy (~4 ms) instead. Up to
    ``KEEP`` configs (~0.2 MB each); the jobs of a larger batch compose their own."""

    KEEP = 256

    def __init__(self, loader):
        self._loader = loader
        self._composed: dict = {}

    def load_sweep_config(self, master_config, sweep_overrides):
        key = (id(master_config), tuple(sweep_overrides))
        if key in self._composed:
            return copy.deepcopy(self._composed[key])  # a job changes its copy (its number, its dir)
        config = self._loader.load_sweep_config(master_config, sweep_overrides)
        if len(self._composed) < self.KEEP:
            self._composed[key] = copy.deepcopy(config)
        return config

    def forget(self) -> None:
        """Drop the kept configs: the workers that need them have been forked."""
        self._composed.clear()

    def __getattr__(self, name):
        return getattr(self._loader, name)


class ForkingJoblibLauncher(JoblibLauncher):
    def setup(self, *, hydra_context, task_function, config) -> None:
        # The sweeper checks the jobs' configs through this same context, before launch.
        if can_fork() and not isinstance(hydra_context.config_loader, _ComposedOnce):
            hydra_context.config_loader = _ComposedOnce(hydra_context.config_loader)
        super().setup(hydra_context=hydra_context, task_function=task_function, config=config)

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        if not can_fork():
            return super().launch(job_overrides, initial_job_idx)
        # joblib only now: Hydra imports this module to find its plugins in every run (~0.09 s).
        from hydra_plugins.hydra_joblib_launcher._core import process_joblib_cfg
        from joblib import Parallel, delayed

        global _shared
        setup_globals()
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        options = dict(self.joblib)
        # A multiprocessing context as the backend: joblib's process pool, forked.
        options["backend"] = multiprocessing.get_context("fork")
        process_joblib_cfg(options)
        log.info(f"Joblib.Parallel (forked workers) is launching {len(job_overrides)} jobs")
        log.info(f"Launching jobs, sweep output dir : {sweep_dir}")
        for idx, overrides in enumerate(job_overrides):
            log.info(f"\t#{idx} : {' '.join(filter_overrides(overrides))}")
        _shared = (self.hydra_context, self.config, self.task_function, Singleton.get_state())
        try:
            with Parallel(**options) as parallel:  # the pool's workers are forked here
                loader = self.hydra_context.config_loader
                if isinstance(loader, _ComposedOnce):
                    loader.forget()
                return parallel(delayed(_run_job)(initial_job_idx + idx, overrides)
                                for idx, overrides in enumerate(job_overrides))
        finally:
            _shared = None
