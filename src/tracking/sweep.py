"""One parent run per Hydra multirun sweep, every job a child run of it.

``SweepCallback.on_multirun_start`` runs once in the launching process before the
launcher starts any job (basic, joblib or Ray alike), so there is nothing to race
for: it opens the store, makes the parent (named after the sweep) and hands its id
and the keys the sweep varies to the jobs through the environment (inherited by
joblib workers and local Ray workers; elsewhere jobs find the parent by its
``sweep_id`` tag). Where the jobs run in workers forked from this process
(``jobs_forked_here``), the sweep's tracking helper makes the parent and the jobs' runs
(src/tracking/sweep_helper.py): this process only checks the store and says what to
make. ``on_multirun_end`` ends it FINISHED; when a job failed or the sweep was
interrupted (Hydra then skips that hook) it ends FAILED at exit, and any child still
RUNNING (its worker stopped by Ctrl-C) ends KILLED.
"""
from __future__ import annotations

import atexit
import os

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from ..errors import Abort
from ..forked import can_fork
from . import sweep_helper
from .reap import process_tags
from .runs import SWEPT_KEYS_ENV, create_parent, dataset_label, enabled, end_parent
from .store import check_store, open_store, source_tags


# The launcher whose jobs run in processes forked from this one (hydra/launcher=joblib_fork,
# src/launcher.py): they can reach the sweep's tracking helper (src/tracking/sweep_helper.py).
FORKING_LAUNCHER = "ForkingJoblibLauncher"


def jobs_forked_here(config: DictConfig) -> bool:
    target = str(OmegaConf.select(config, "hydra.launcher._target_", default=""))
    return can_fork() and target.rsplit(".", 1)[-1] == FORKING_LAUNCHER


def task_overrides(config: DictConfig) -> list[str]:
    """The command line's overrides as typed: an ``out_dir=...${seed}`` is a job's
    interpolation, which the launching process must not try to resolve."""
    return OmegaConf.to_container(config.hydra.overrides.task, resolve=False)


def swept_keys(config: DictConfig) -> list[str]:
    """The keys the sweep varies: sweep overrides on the command line (``lambd=0,0.7``)
    and the sweeper's own ``params`` (presets such as experiment=multi_seed)."""
    parsed = OverridesParser.create().parse_overrides(task_overrides(config))
    keys = {o.key_or_group for o in parsed if o.is_sweep_override()}
    keys.update((config.hydra.sweeper.get("params") or {}).keys())
    return sorted(keys)


class SweepCallback(Callback):
    def __init__(self) -> None:
        self.client = None
        self.experiment_id: str | None = None
        self.run_id: str | None = None
        self.helper = None  # the sweep's helper (src/tracking/sweep_helper.py) where it tracks

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        # Hydra turns a callback's error into a warning and launches the jobs anyway: a
        # sweep whose store cannot be used (a server that does not answer) stops here,
        # before any job, with its one-line error.
        try:
            self._start(config)
        except Exception as error:
            raise Abort(error) from error

    def _start(self, config: DictConfig) -> None:
        helper = sweep_helper.take(enabled(config) and jobs_forked_here(config))
        if not enabled(config):
            return
        os.environ[SWEPT_KEYS_ENV] = ",".join(swept_keys(config))
        sweep_id = str(config.hydra.sweep.dir)
        overrides = " ".join(task_overrides(config)) or "defaults"
        label = config.hydra.runtime.choices.get("experiment") or dataset_label(config.dataset)
        tags = {**source_tags(), **process_tags(), "sweep_id": sweep_id, "sweep_parent": "true",
                "sweep_overrides": overrides[:5000]}
        name = f"sweep {label}: {overrides}"[:250]
        if helper is not None:
            check_store()  # what fails at once, before any job starts
            helper.open_parent(name, tags)  # made while Hydra checks the jobs' configs
            self.helper = helper
        else:
            self.client, self.experiment_id = open_store()  # store ready before any job starts
            self.run_id = create_parent(self.client, self.experiment_id, name, tags)
        # Hydra skips on_multirun_end when a job raised: end the parent at exit then.
        atexit.register(self._end_failed)

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        atexit.unregister(self._end_failed)
        self._end("FINISHED")

    def _end_failed(self) -> None:
        self._end("FAILED", "a job failed or the sweep was interrupted (see the child runs)")

    def _end(self, status: str, error: str | None = None) -> None:
        if self.helper is not None:
            self.helper.end_parent(status, error)
            self.helper.close()
            self.helper = None
        elif self.run_id is not None:
            end_parent(self.client, self.experiment_id, self.run_id, status, error)
            self.run_id = None
