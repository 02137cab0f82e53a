"""One MLflow run per training job: its name, tags, params, cost curve and result.

``start(cfg)`` opens the run (named after its dataset and what distinguishes it,
with MLflow's system tags and every config value as a param); the job streams its
cost through ``Run.log_cost`` and hands its result to ``Run.log_result``: metrics,
the diagnosis and gradient-check tags, its data as MLflow dataset inputs
(train/dev/test), the run directory as artifacts and the trained network as the
pyfunc model ``model`` (src/tracking/model.py). Any exception ends the run FAILED
(KILLED on Ctrl-C) with the message in its ``error`` tag. Tracking logs what it is
given: the numbers come from the job.
"""
from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from .store import open_store, source_tags

PARENT_RUN_ENV = "IMPROVING_DNN_PARENT_RUN_ID"
SWEPT_KEYS_ENV = "IMPROVING_DNN_SWEPT_KEYS"  # the keys a sweep varies, for its jobs' names
PARENT_TAG = "mlflow.parentRunId"
CONTRACT_PARAMS = ("init", "lambd", "keep_prob", "learning_rate", "num_iterations", "seed", "layers", "rng", "normalize", "dataset")
COST_BATCH = 500  # log_batch takes at most 1000 metrics per call
FLUSH_SECONDS = 10.0  # so a long run's curve still grows in the UI
DIGEST_LENGTH = 36  # MLflow's limit for a dataset digest: the first 36 hex digits of a sha256
MODEL_CODE = Path(__file__).with_name("model.py")
# Overrides that say where a run goes or what its name already says, not what it is.
NOT_IN_NAMES = ("out_dir", "tracking", "experiment", "dataset", "dataset.path", "init", "log_model")


def enabled(cfg: DictConfig) -> bool:
    return bool(cfg.tracking)


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


def dataset_label(cfg: DictConfig) -> str:
    """The dataset's name; for a file (npz, mat), the file's own name (e.g. ``football``)."""
    path = cfg.dataset.get("path")
    return Path(str(path)).stem if path not in (None, "???") else str(cfg.dataset.name)


def run_name(cfg: DictConfig) -> str:
    """The dataset (or the experiment preset), the init, then what distinguishes the run:
    its command-line overrides, or in a sweep the values of the keys the sweep varies,
    e.g. ``football he lambd=0.7 keep_prob=0.86``; unique within a sweep."""
    label, overrides = dataset_label(cfg), []
    if HydraConfig.initialized():
        hydra_cfg = HydraConfig.get()
        label = hydra_cfg.runtime.choices.get("experiment") or label
        overrides = OmegaConf.to_container(hydra_cfg.overrides.task, resolve=False)  # as typed
        swept = os.environ.get(SWEPT_KEYS_ENV)
        if hydra_cfg.mode == RunMode.MULTIRUN and swept:
            overrides = [o for o in overrides if _key(o) in swept.split(",")]
    kept = [o for o in overrides if _key(o) not in NOT_IN_NAMES and not _key(o).startswith("hydra.")]
    return " ".join([label, str(cfg.init), *kept])[:250]


def _key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


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

    def __init__(self, client, run_id: str, cfg: DictConfig):
        self.client, self.run_id, self.cfg = client, run_id, cfg
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
        """The run's metrics and diagnosis tags, the at-init gradient check it was given
        (difference and verdict), its data as dataset inputs, its directory as
        artifacts, and the network as the model ``model`` (unless log_model=false)."""
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
        self.client.log_inputs(self.run_id, datasets=dataset_inputs(self.cfg, result.dataset))
        self.client.log_artifacts(self.run_id, str(out_dir))
        if self.cfg.log_model:
            log_model(self.run_id, Path(out_dir) / "params.npz", result.dataset.train.X)


def dataset_inputs(cfg: DictConfig, dataset) -> list:
    """One MLflow dataset input per split (context train / dev / test), named as the run
    names its data, with where it came from. Each split is its own MLflow dataset (MLflow
    keeps one input per dataset and run), so its digest is the split's own hash; the
    ``dataset_hash`` param covers them all."""
    from mlflow.entities import Dataset, DatasetInput, InputTag

    options = OmegaConf.to_container(cfg.dataset, resolve=True)
    if options.get("path"):
        source_type, source = "local", {"uri": Path(str(options["path"])).resolve().as_uri()}
    else:
        source_type, source = "code", {"generator": f"src.data.datasets:{options.pop('name')}", "options": options}
    n_features = dataset.train.X.shape[0]
    inputs = []
    for split, data in dataset.splits.items():
        entity = Dataset(
            name=dataset_label(cfg),
            digest=dataset.digest(split)[:DIGEST_LENGTH],
            source_type=source_type,
            source=json.dumps(source, sort_keys=True),
            schema=json.dumps({"features": n_features, "layout": "features x examples; labels: class ids"}),
            profile=json.dumps({"split": split, "examples": int(data.X.shape[1])}),
        )
        inputs.append(DatasetInput(entity, tags=[InputTag("mlflow.data.context", split)]))
    return inputs


def log_model(run_id: str, weights: Path, X_train) -> None:
    """The trained network as the pyfunc model ``model`` of the run: MLflow's
    models-from-code (src/tracking/model.py, no pickle), its weights the run's
    params.npz, examples as rows in and a class per row out."""
    import mlflow
    import numpy as np
    from mlflow.models import ModelSignature
    from mlflow.types import Schema, TensorSpec

    from .store import tracking_uri

    features = X_train.shape[0]
    signature = ModelSignature(inputs=Schema([TensorSpec(np.dtype("float64"), (-1, features))]),
                               outputs=Schema([TensorSpec(np.dtype("int64"), (-1,))]))
    mlflow.set_tracking_uri(tracking_uri())
    # The fluent API logs a model into the active run. Activating this one ends it
    # FINISHED on the way out: this is the run's last step (and ``start`` ends it anyway).
    with mlflow.start_run(run_id=run_id):
        mlflow.pyfunc.log_model(
            name="model",
            python_model=str(MODEL_CODE),
            artifacts={"weights": str(weights)},
            signature=signature,
            input_example=np.ascontiguousarray(X_train[:, :5].T),
            pip_requirements=[f"numpy=={np.__version__}", f"mlflow=={mlflow.__version__}"],
        )


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
    tags = dict(source_tags())
    job = _sweep_job()
    if job is not None:
        sweep_id, num = job
        tags.update(sweep_id=sweep_id, hydra_job_num=str(num))
        parent = find_parent(client, experiment_id, sweep_id)
        if parent:
            tags[PARENT_TAG] = parent
    info = client.create_run(experiment_id, run_name=run_name(cfg), tags=tags).info
    run = Run(client, info.run_id, cfg)
    try:
        client.log_batch(info.run_id, params=[Param(k, v[:6000]) for k, v in run_params(cfg).items()])
        yield run
    except BaseException as error:
        status = "KILLED" if isinstance(error, KeyboardInterrupt) else "FAILED"
        end(client, info.run_id, status, f"{type(error).__name__}: {error}", run)
        raise
    end(client, info.run_id, "FINISHED")


def end(client, run_id: str, status: str, error: str | None = None, run: Run | None = None) -> None:
    with contextlib.suppress(Exception):  # never hide the original error
        if run is not None:
            run.flush()
        if error is not None:
            client.set_tag(run_id, "error", error[:5000])
    client.set_terminated(run_id, status)
