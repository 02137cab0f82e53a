"""One parent run per Hydra multirun sweep, every job a child run of it.

``SweepCallback.on_multirun_start`` runs once in the launching process before the
launcher starts any job (basic, joblib or Ray alike), so there is nothing to race
for: it opens the store, makes the parent (named after the sweep) and hands its id
and the keys the sweep varies to the jobs through the environment (inherited by
joblib workers and local Ray workers; elsewhere jobs find the parent by its
``sweep_id`` tag). ``on_multirun_end`` ends it FINISHED; when a job failed or the
sweep was interrupted (Hydra then skips that hook) it ends FAILED at exit, and
any child still RUNNING (its worker stopped by Ctrl-C) ends KILLED.
"""
from __future__ import annotations

import atexit
import contextlib
import os

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from .reap import process_tags, reap
from .runs import PARENT_RUN_ENV, PARENT_TAG, SWEPT_KEYS_ENV, dataset_label, enabled, end
from .store import open_store, source_tags


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

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        if not enabled(config):
            return
        self.client, self.experiment_id = open_store()  # store ready before any job starts
        reap(self.client, [self.experiment_id])
        sweep_id = str(config.hydra.sweep.dir)
        overrides = " ".join(task_overrides(config)) or "defaults"
        label = config.hydra.runtime.choices.get("experiment") or dataset_label(config.dataset)
        tags = {**source_tags(), **process_tags(), "sweep_id": sweep_id, "sweep_parent": "true",
                "sweep_overrides": overrides[:5000]}
        info = self.client.create_run(self.experiment_id, run_name=f"sweep {label}: {overrides}"[:250], tags=tags).info
        self.run_id = info.run_id
        os.environ[PARENT_RUN_ENV] = self.run_id
        os.environ[SWEPT_KEYS_ENV] = ",".join(swept_keys(config))
        # Hydra skips on_multirun_end when a job raised: end the parent at exit then.
        atexit.register(self._end_failed)

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        if self.run_id is not None:
            atexit.unregister(self._end_failed)
            self.client.set_terminated(self.run_id, "FINISHED")
            self.run_id = None

    def _end_failed(self) -> None:
        if self.run_id is not None:
            _end_unfinished_children(self.client, self.experiment_id, self.run_id)
            end(self.client, self.run_id, "FAILED", "a job failed or the sweep was interrupted (see the child runs)")
            self.run_id = None


def _end_unfinished_children(client, experiment_id: str, parent_id: str) -> None:
    """Children still RUNNING when the sweep has ended abnormally lost their worker
    (Ctrl-C: the launcher stops its workers before they can end their runs): end
    them KILLED rather than leave them running forever in the UI."""
    with contextlib.suppress(Exception):  # the parent must still be ended
        orphans = client.search_runs(
            [experiment_id], filter_string=f"tags.`{PARENT_TAG}` = '{parent_id}' and attributes.status = 'RUNNING'")
        for run in orphans:
            end(client, run.info.run_id, "KILLED", "the sweep ended before this job did (interrupted)")
