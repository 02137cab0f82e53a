"""MLflow tracking: one run per training job, one parent run per sweep.

Store: ``MLFLOW_TRACKING_URI`` if set (sqlite, file or an ``http://`` server),
else ``sqlite:///<project root>/mlflow.db`` with artifacts in ``<root>/mlruns``,
whatever the current directory. Experiment: ``MLFLOW_EXPERIMENT_NAME`` or
``improving-dnn``. ``tracking=false`` turns all of it off.

A sweep's parent run is made by ``SweepCallback.on_multirun_start``, which
Hydra calls once in the launching process before the launcher starts any job
(basic, joblib or Ray alike), so there is nothing to race for; it is ended in
``on_multirun_end``, or as FAILED at exit when a job failed or the sweep was
interrupted, and then any child still RUNNING (its worker stopped by Ctrl-C)
ends KILLED. Jobs find it through ``PARENT_RUN_ENV`` (inherited by joblib
workers and local Ray workers) or, on machines that do not inherit it, by the
``sweep_id`` tag in the shared store.

mlflow is imported inside the functions, so ``tracking=false`` does not pay
for importing it.
"""
from __future__ import annotations

import atexit
import contextlib
import functools
import logging
import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from filelock import FileLock
from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from . import PROJECT_ROOT
from .artifacts import title
from .errors import InputError

DEFAULT_EXPERIMENT = "improving-dnn"
PARENT_RUN_ENV = "IMPROVING_DNN_PARENT_RUN_ID"
PARENT_TAG = "mlflow.parentRunId"
CONTRACT_PARAMS = ("init", "lambd", "keep_prob", "learning_rate", "num_iterations", "seed", "layers", "rng", "normalize", "dataset")
COST_BATCH = 500  # log_batch takes at most 1000 metrics per call
FLUSH_SECONDS = 10.0  # so a long run's curve still grows in the UI
SERVER_TIMEOUT = 5.0  # seconds to wait for a tracking server's /health answer
# MLflow retries a failing HTTP call 7 times with exponential back-off (minutes);
# a run should rather fail fast and say so. The user's own settings win.
HTTP_LIMITS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
               "MLFLOW_HTTP_REQUEST_TIMEOUT": "20"}


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{PROJECT_ROOT / 'mlflow.db'}"


def experiment_name() -> str:
    return os.environ.get("MLFLOW_EXPERIMENT_NAME") or DEFAULT_EXPERIMENT


def enabled(cfg: DictConfig) -> bool:
    return bool(cfg.tracking)


def sqlite_file(uri: str) -> Path | None:
    if uri.startswith("sqlite:///") and ":memory:" not in uri:
        return Path(uri.removeprefix("sqlite:///"))
    return None


def check_server(uri: str) -> None:
    """A tracking server that does not answer fails the run at once, in one line,
    before anything is logged (rather than after minutes of retries)."""
    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=SERVER_TIMEOUT) as response:
            response.read()
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise InputError(
            f"MLFLOW_TRACKING_URI: no MLflow tracking server answers at {uri} ({reason}); start one "
            "(mlflow server --host 127.0.0.1 --port PORT), or unset it to log to mlflow.db"
        ) from None


def open_store():
    """(client, experiment id). Creating and migrating a new SQLite store, and the
    experiment, happens once under a file lock: parallel jobs on a fresh store
    would otherwise race through MLflow's schema migrations."""
    from mlflow.tracking import MlflowClient

    # Creating a store logs its schema migrations at INFO on stderr: noise here.
    for name in ("mlflow.store.db.utils", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    uri = tracking_uri()
    if uri.startswith(("http://", "https://")):
        for key, value in HTTP_LIMITS.items():
            os.environ.setdefault(key, value)
        check_server(uri)
    db = sqlite_file(uri)
    lock = contextlib.nullcontext()
    if db is not None:
        # A connection per session, none kept: a sweep's workers are forked from
        # this process (src/launcher.py), and SQLite connections must not cross a fork.
        os.environ.setdefault("MLFLOW_SQLALCHEMYSTORE_POOLCLASS", "NullPool")
        db.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(f"{db}.lock", timeout=300)
    with lock:
        client = MlflowClient(uri)
        # Artifacts of a SQLite store go beside it, not into ./mlruns of the cwd.
        artifact_root = (db.resolve().parent / "mlruns").as_uri() if db is not None else None
        return client, _experiment_id(client, experiment_name(), artifact_root)


def _experiment_id(client, name: str, artifact_root: str | None) -> str:
    from mlflow.exceptions import MlflowException

    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    try:
        return client.create_experiment(name, artifact_location=artifact_root)
    except MlflowException:
        # Another process (e.g. on a shared server) created it first.
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            raise
        return experiment.experiment_id


@functools.cache
def git_tags() -> dict[str, str]:
    """Commit and dirty flag of the project checkout; empty outside git."""
    def git(*args):
        return subprocess.run(["git", "-C", str(PROJECT_ROOT), *args], capture_output=True, text=True, timeout=20, check=True).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return {}
    return {"git_commit": commit, "mlflow.source.git.commit": commit, "git_dirty": str(dirty).lower()}


def flatten(container, prefix: str = "") -> dict[str, str]:
    flat = {}
    for key, value in container.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


def run_params(cfg: DictConfig) -> dict[str, str]:
    """Every resolved config value, flattened (``dataset.n_train``); ``dataset`` is its name."""
    values = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=False)
    values.pop("hydra", None)
    params = flatten(values)
    params["dataset"] = params.pop("dataset.name", "")
    return params


def _sweep_job() -> tuple[str, int] | None:
    """(sweep id, job number) inside a Hydra multirun job, else None."""
    if not HydraConfig.initialized():
        return None
    hydra_cfg = HydraConfig.get()
    if hydra_cfg.mode != RunMode.MULTIRUN:
        return None
    return str(hydra_cfg.sweep.dir), int(hydra_cfg.job.num)


def find_parent(client, experiment_id: str, sweep_id: str) -> str | None:
    if os.environ.get(PARENT_RUN_ENV):
        return os.environ[PARENT_RUN_ENV]
    sweep = sweep_id.replace("'", "\\'")
    found = client.search_runs(
        [experiment_id],
        filter_string=f"tags.sweep_id = '{sweep}' and tags.sweep_parent = 'true' and attributes.status = 'RUNNING'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return found[0].info.run_id if found else None


class Run:
    """One job's MLflow run: cost points are buffered and sent with log_batch."""

    def __init__(self, client, run_id: str):
        self.client, self.run_id = client, run_id
        self._costs: list = []
        self._last_flush = time.monotonic()

    def log_cost(self, step: int, value: float) -> None:
        from mlflow.entities import Metric

        self._costs.append(Metric("cost", float(value), int(time.time() * 1000), int(step)))
        if len(self._costs) >= COST_BATCH or time.monotonic() - self._last_flush > FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self._costs:
            self.client.log_batch(self.run_id, metrics=self._costs)
            self._costs = []
        self._last_flush = time.monotonic()

    def log_result(self, result, out_dir: str | Path, gradcheck=None) -> None:
        """The run's metrics, diagnosis tags and dataset digest, the at-init gradient
        check it was given (difference and verdict), and its directory as artifacts."""
        from mlflow.entities import Metric, Param, RunTag

        self.flush()
        now = int(time.time() * 1000)
        metrics = {**result.metrics, "train_seconds": result.seconds}
        tags = dict(result.tags)  # e.g. the diagnosis
        if gradcheck is not None:
            metrics["gradcheck_difference"] = gradcheck.difference
            tags["gradcheck_verdict"] = gradcheck.verdict
        self.client.log_batch(
            self.run_id,
            metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items()],
            params=[Param("dataset_hash", result.dataset.digest())],
            tags=[RunTag(k, str(v)) for k, v in tags.items()],
        )
        self.client.log_artifacts(self.run_id, str(out_dir))


class NullRun:
    """What ``start`` yields with ``tracking=false``: every call does nothing."""

    def log_cost(self, step: int, value: float) -> None:
        pass

    def log_result(self, result, out_dir, gradcheck=None) -> None:
        pass


@contextlib.contextmanager
def start(cfg: DictConfig):
    """Track one training job. Any exception ends the run FAILED (KILLED on Ctrl-C)
    with the message in the ``error`` tag, and is re-raised."""
    if not enabled(cfg):
        yield NullRun()
        return
    from mlflow.entities import Param

    client, experiment_id = open_store()
    tags = dict(git_tags())
    job = _sweep_job()
    if job is not None:
        sweep_id, num = job
        tags.update(sweep_id=sweep_id, hydra_job_num=str(num))
        parent = find_parent(client, experiment_id, sweep_id)
        if parent:
            tags[PARENT_TAG] = parent
    info = client.create_run(experiment_id, run_name=title(cfg), tags=tags).info
    run = Run(client, info.run_id)
    try:
        client.log_batch(info.run_id, params=[Param(k, v[:6000]) for k, v in run_params(cfg).items()])
        yield run
    except BaseException as error:
        status = "KILLED" if isinstance(error, KeyboardInterrupt) else "FAILED"
        _end(client, info.run_id, status, f"{type(error).__name__}: {error}", run)
        raise
    _end(client, info.run_id, "FINISHED")


def _end(client, run_id: str, status: str, error: str | None = None, run: Run | None = None) -> None:
    with contextlib.suppress(Exception):  # never hide the original error
        if run is not None:
            run.flush()
        if error is not None:
            client.set_tag(run_id, "error", error[:5000])
    client.set_terminated(run_id, status)


class SweepCallback(Callback):
    """One parent run per multirun sweep (see the module docstring)."""

    def __init__(self) -> None:
        self.client = None
        self.experiment_id: str | None = None
        self.run_id: str | None = None

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        if not enabled(config):
            return
        self.client, self.experiment_id = open_store()  # store ready before any job starts
        sweep_id = str(config.hydra.sweep.dir)
        overrides = " ".join(config.hydra.overrides.task) or "sweep"
        tags = {**git_tags(), "sweep_id": sweep_id, "sweep_parent": "true", "sweep_overrides": overrides[:5000]}
        info = self.client.create_run(self.experiment_id, run_name=f"sweep {overrides}"[:250], tags=tags).info
        self.run_id = info.run_id
        os.environ[PARENT_RUN_ENV] = self.run_id
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
            _end(self.client, self.run_id, "FAILED", "a job failed or the sweep was interrupted (see the child runs)")
            self.run_id = None


def _end_unfinished_children(client, experiment_id: str, parent_id: str) -> None:
    """Children still RUNNING when the sweep has ended abnormally lost their worker
    (Ctrl-C: the launcher stops its workers before they can end their runs): end
    them KILLED rather than leave them running forever in the UI."""
    with contextlib.suppress(Exception):  # the parent must still be ended
        orphans = client.search_runs(
            [experiment_id], filter_string=f"tags.`{PARENT_TAG}` = '{parent_id}' and attributes.status = 'RUNNING'")
        for run in orphans:
            client.set_tag(run.info.run_id, "error", "the sweep ended before this job did (interrupted)")
            client.set_terminated(run.info.run_id, "KILLED")
