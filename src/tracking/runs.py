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

from .reap import process_tags, reap
from .store import ERROR_TAG, fluent_mlflow, open_store, source_tags, tracking_uri

PARENT_RUN_ENV = "IMPROVING_DNN_PARENT_RUN_ID"
SWEPT_KEYS_ENV = "IMPROVING_DNN_SWEPT_KEYS"  # the keys a sweep varies, for its jobs' names
PARENT_TAG = "mlflow.parentRunId"
CONTRACT_PARAMS = ("init", "lambd", "keep_prob", "learning_rate", "num_iterations", "seed", "layers", "rng", "normalize", "dataset")
COST_BATCH = 500  # log_batch takes at most 1000 metrics per call
FLUSH_SECONDS = 10.0  # so a long run's curve still grows in the UI
DIGEST_LENGTH = 36  # MLflow's limit for a dataset digest: the first 36 hex digits of a sha256
MODEL_CODE = Path(__file__).with_name("model.py")
# How the databases MLflow runs on word a unique key clash (SQLite, PostgreSQL, MySQL).
DUPLICATE_KEY_WORDS = ("unique constraint", "duplicate key", "duplicate entry")
INPUT_ATTEMPTS = 3
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
    return config_params(values)


def config_params(values: dict) -> dict[str, str]:
    """A run's config (a run directory's config.yaml) as MLflow params."""
    params = flatten(values)
    params["dataset"] = params.pop("dataset.name", "")
    return params


def dataset_label(dataset) -> str:
    """The name of a dataset config; for a file (npz, mat), the file's own name (e.g. ``football``)."""
    path = dataset.get("path")
    return Path(str(path)).stem if path not in (None, "???") else str(dataset["name"])


def run_name(cfg: DictConfig) -> str:
    """The dataset (or the experiment preset), the init, then what distinguishes the run:
    its command-line overrides, or in a sweep the values of the keys the sweep varies,
    e.g. ``football he lambd=0.7 keep_prob=0.86``; unique within a sweep."""
    label, overrides = dataset_label(cfg.dataset), []
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


def sweep_job() -> tuple[str, int] | None:
    """(sweep id, job number) inside a Hydra multirun job, else None."""
    if not HydraConfig.initialized():
        return None
    hydra_cfg = HydraConfig.get()
    if hydra_cfg.mode != RunMode.MULTIRUN:
        return None
    return str(hydra_cfg.sweep.dir), int(hydra_cfg.job.num)


def quoted(value: str) -> str:
    """``value`` as a string literal of an MLflow search filter."""
    escaped = value.replace("'", "\\'")
    return f"'{escaped}'"


def find_parent(client, experiment_id: str, sweep_id: str) -> str | None:
    if os.environ.get(PARENT_RUN_ENV):
        return os.environ[PARENT_RUN_ENV]
    found = client.search_runs(
        [experiment_id],
        filter_string=f"tags.sweep_id = {quoted(sweep_id)} and tags.sweep_parent = 'true' and attributes.status = 'RUNNING'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return found[0].info.run_id if found else None


class TrackingLost(ConnectionError):
    """The tracking store stopped answering during a run: the run is complete on disk,
    and the message says what was not logged and how to log it later."""


class Run:
    """One job's MLflow run. Cost points are buffered and sent with log_batch. If the
    store stops answering (a tracking server gone) the run goes on untracked, and
    ``log_result`` then raises TrackingLost naming what was not logged."""

    def __init__(self, client, run_id: str):
        self.client, self.run_id = client, run_id
        self._costs: list = []
        self._last_flush = time.monotonic()
        self.lost: str | None = None  # why the store stopped answering, once it has

    def log_cost(self, step: int, value: float) -> None:
        from mlflow.entities import Metric

        if self.lost:
            return
        self._costs.append(Metric("cost", float(value), int(time.time() * 1000), int(step)))
        if len(self._costs) >= COST_BATCH or time.monotonic() - self._last_flush > FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self._costs and not self.lost:
            try:
                self.client.log_batch(self.run_id, metrics=self._costs)
            except Exception as error:  # noqa: BLE001 (whatever the store says, training goes on)
                self.lost = store_failure(error)
            self._costs = []
        self._last_flush = time.monotonic()

    def log_result(self, out_dir: str | Path, train_seconds: float | None = None) -> None:
        """Everything the run directory holds (``log_directory``), and how long training took."""
        self.flush()
        if not self.lost:
            try:
                log_directory(self.client, self.run_id, Path(out_dir), {"train_seconds": train_seconds} if train_seconds else {})
                return
            except Exception as error:  # noqa: BLE001
                self.lost = store_failure(error)
        raise TrackingLost(lost_message(self.lost, out_dir, self.run_id))


def store_failure(error: BaseException) -> str:
    """What the store said when it failed, short enough for the job's one error line."""
    return f"{type(error).__name__}: {error}".splitlines()[0][:300]


def lost_message(why: str, out_dir, run_id: str | None) -> str:
    """The one line of a job whose store failed: what was not logged, and the command
    that logs its (complete) run directory once the store answers again."""
    if out_dir is None:
        return f"MLFLOW_TRACKING_URI: could not open the tracking store {tracking_uri()} ({why})"
    if run_id is None:
        return (f"MLFLOW_TRACKING_URI: could not open the tracking store {tracking_uri()} ({why}); nothing logged. The "
                f"run directory {out_dir} is complete: log it with `python -m src.tracking.relog {out_dir}`")
    return (f"MLFLOW_TRACKING_URI: the tracking store {tracking_uri()} stopped answering during run {run_id} ({why}); "
            "not logged: its cost curve from then on, metrics, tags, data, artifacts and model. The run directory "
            f"{out_dir} is complete: log it with `python -m src.tracking.relog {out_dir} --run-id {run_id}`")


def log_directory(client, run_id: str, out_dir: Path, extra_metrics: dict | None = None) -> None:
    """Log a complete run directory (src/artifacts.py) into the run: metrics.json (and
    gradcheck.json) as metrics, tags.json (and the gradient check's verdict) as tags,
    dataset.json and config.yaml as the dataset hash and the dataset inputs, every file
    as an artifact, and params.npz as the model ``model`` (unless the config says
    log_model: false). What it logs, it reads: the numbers are the job's."""
    from mlflow.entities import Metric, Param, RunTag

    config = _yaml(out_dir / "config.yaml")
    data = _json(out_dir / "dataset.json")
    metrics = {**_json(out_dir / "metrics.json"), **(extra_metrics or {})}
    tags = _json(out_dir / "tags.json")
    check = out_dir / "gradcheck.json"
    if check.is_file():
        gradcheck = _json(check)
        metrics["gradcheck_difference"] = gradcheck["difference"]
        tags["gradcheck_verdict"] = gradcheck["verdict"]
    now = int(time.time() * 1000)
    client.log_batch(
        run_id,
        metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items()],
        params=[Param("dataset_hash", data["digest"])],
        tags=[RunTag(k, str(v)) for k, v in tags.items()],
    )
    log_inputs(client, run_id, dataset_inputs(config["dataset"], data))
    client.log_artifacts(run_id, str(out_dir))
    if config.get("log_model", True):
        normalization = out_dir / "normalization.json"
        log_model(run_id, out_dir / "params.npz", data["example"], normalization if normalization.is_file() else None)


def _json(path: Path) -> dict:
    return json.loads(path.read_text())


def _yaml(path: Path) -> dict:
    import yaml

    return yaml.safe_load(path.read_text())


def log_inputs(client, run_id: str, inputs: list) -> None:
    """``client.log_inputs``, once more if it lost a race. MLflow looks a dataset up, then
    inserts it if it is new, so parallel jobs logging the same new dataset collide on
    its unique key; the loser's transaction wrote nothing and, tried again, finds the
    winner's row."""
    for attempt in range(1, INPUT_ATTEMPTS + 1):
        try:
            client.log_inputs(run_id, datasets=inputs)
            return
        except Exception as error:
            if attempt == INPUT_ATTEMPTS or not any(word in str(error).lower() for word in DUPLICATE_KEY_WORDS):
                raise
            time.sleep(0.05 * attempt)


def dataset_inputs(dataset: dict, data: dict) -> list:
    """One MLflow dataset input per split (context train / dev / test), named as run names
    name the data, with where it came from (``dataset``: the run's dataset config). Each
    split is its own MLflow dataset (MLflow keeps one input per dataset and run), so its
    digest is the split's own hash (``data``: dataset.json); ``dataset_hash`` covers all."""
    from mlflow.entities import Dataset, DatasetInput, InputTag

    options = dict(dataset)
    if options.get("path"):
        source_type, source = "local", {"uri": Path(str(options["path"])).resolve().as_uri()}
    else:
        source_type, source = "code", {"generator": f"src.data.datasets:{options.pop('name')}", "options": options}
    inputs = []
    for split, facts in data["splits"].items():
        entity = Dataset(
            name=dataset_label(dataset),
            digest=facts["digest"][:DIGEST_LENGTH],
            source_type=source_type,
            source=json.dumps(source, sort_keys=True),
            schema=json.dumps({"features": data["features"], "layout": "features x examples; labels: class ids"}),
            profile=json.dumps({"split": split, "examples": facts["examples"]}),
        )
        inputs.append(DatasetInput(entity, tags=[InputTag("mlflow.data.context", split)]))
    return inputs


def log_model(run_id: str, weights: Path, example: list[list[float]], normalization: Path | None = None) -> None:
    """The trained network as the pyfunc model ``model`` of the run: MLflow's
    models-from-code (src/tracking/model.py, no pickle), its weights the run's
    params.npz (and its input standardisation, ``normalization``, if it had one),
    examples as rows in and a class per row out."""
    import numpy as np
    from mlflow.models import ModelSignature
    from mlflow.types import Schema, TensorSpec

    example = np.array(example, dtype=np.float64)  # a few training examples, as rows
    features = example.shape[1]
    signature = ModelSignature(inputs=Schema([TensorSpec(np.dtype("float64"), (-1, features))]),
                               outputs=Schema([TensorSpec(np.dtype("int64"), (-1,))]))
    mlflow = fluent_mlflow()
    # The fluent API logs a model into the active run. Activating this one ends it
    # FINISHED on the way out: this is the run's last step (and ``start`` ends it anyway).
    requirements = {"numpy": np.__version__, "mlflow": mlflow.__version__}
    with mlflow.start_run(run_id=run_id), _requirements_known_as_modules(requirements):
        mlflow.pyfunc.log_model(
            name="model",
            python_model=str(MODEL_CODE),
            artifacts={"weights": str(weights), **({"normalization": str(normalization)} if normalization else {})},
            signature=signature,
            input_example=example,
            pip_requirements=[f"{package}=={version}" for package, version in requirements.items()],
        )


@contextlib.contextmanager
def _requirements_known_as_modules(packages):
    """Tell MLflow, for one model, that each of its requirements' module is its name.
    Before logging a model MLflow checks that this environment satisfies its
    requirements, and to find their modules it first maps every installed distribution
    to its modules (``importlib.metadata.packages_distributions``, ~0.35 s once a
    process): in every worker of a sweep, and on the tracked run's critical path. The
    map is MLflow's private cache; it is set only while empty, and emptied again after."""
    from mlflow.utils import requirements_utils

    empty = getattr(requirements_utils, "_MODULES_TO_PACKAGES", ()) is None
    if empty:
        requirements_utils._MODULES_TO_PACKAGES = {package: [package] for package in packages}
    try:
        yield
    finally:
        if empty:
            requirements_utils._MODULES_TO_PACKAGES = None


class NullRun:
    """What ``start`` yields with ``tracking=false``: every call does nothing."""

    def log_cost(self, step: int, value: float) -> None:
        pass

    def log_result(self, out_dir, train_seconds=None) -> None:
        pass


def describe(cfg: DictConfig) -> dict:
    """What the job's run is, from its config and Hydra's state, without MLflow: its
    name, params and, in a sweep, (sweep id, job number). A helper process that has no
    Hydra state (src/tracking/background.py) gets this from the job."""
    return {"name": run_name(cfg), "params": run_params(cfg), "sweep_job": sweep_job()}


def open_run(cfg: DictConfig, pid: int | None = None) -> Run:
    """Open the job's run in the store (``create_run``)."""
    client, experiment_id = open_store()
    return create_run(client, experiment_id, describe(cfg), pid)


def create_run(client, experiment_id: str, description: dict, pid: int | None = None) -> Run:
    """First end KILLED the runs of this host whose process is gone (src/tracking/reap.py),
    then create the run ``description`` describes, named, tagged with where it runs (the
    job's process: ``pid``, default this one) and with its config as params."""
    from mlflow.entities import Param

    reap(client, [experiment_id])
    tags = {**source_tags(), **process_tags(pid)}
    if description["sweep_job"] is not None:
        sweep_id, num = description["sweep_job"]
        tags.update(sweep_id=sweep_id, hydra_job_num=str(num))
        parent = find_parent(client, experiment_id, sweep_id)
        if parent:
            tags[PARENT_TAG] = parent
    info = client.create_run(experiment_id, run_name=description["name"], tags=tags).info
    run = Run(client, info.run_id)
    try:
        client.log_batch(info.run_id, params=[Param(k, v[:6000]) for k, v in description["params"].items()])
    except BaseException as error:
        end(client, info.run_id, *failure(error), run)
        raise
    return run


def create_parent(client, experiment_id: str, name: str, tags: dict) -> str:
    """Make a sweep's parent run (after reaping, as ``create_run``); its jobs' runs, made in
    this process, find it through the environment (``find_parent``). Its id."""
    reap(client, [experiment_id])
    run_id = client.create_run(experiment_id, run_name=name, tags=tags).info.run_id
    os.environ[PARENT_RUN_ENV] = run_id
    return run_id


def end_parent(client, experiment_id: str, run_id: str, status: str, error: str | None = None) -> None:
    """End a sweep's parent run. Ended otherwise than FINISHED (a job failed, Ctrl-C), its
    children still RUNNING lost their worker before they could end their runs (the
    launcher stops its workers): they end KILLED rather than run on for ever in the UI."""
    if status == "FINISHED":
        client.set_terminated(run_id, status)
        return
    with contextlib.suppress(Exception):  # the parent must still be ended
        orphans = client.search_runs(
            [experiment_id], filter_string=f"tags.`{PARENT_TAG}` = '{run_id}' and attributes.status = 'RUNNING'")
        for run in orphans:
            end(client, run.info.run_id, "KILLED", "the sweep ended before this job did (interrupted)")
    end(client, run_id, status, error)


def failure(error: BaseException) -> tuple[str, str]:
    """How a job's error ends its run: (status, the ``error`` tag): KILLED on Ctrl-C
    or when the sweep's launcher died (KeyboardInterrupt), else FAILED."""
    return ("KILLED" if isinstance(error, KeyboardInterrupt) else "FAILED"), f"{type(error).__name__}: {error}"


@contextlib.contextmanager
def start(cfg: DictConfig):
    """Track one training job in this process (``open_run``). Any exception ends the
    run FAILED (KILLED on Ctrl-C or when the sweep's launcher died) with the message in
    the ``error`` tag, and is re-raised; a store that stopped answering (TrackingLost)
    is left alone. src/tracking/background.py does the same from a helper process."""
    if not enabled(cfg):
        yield NullRun()
        return
    run = open_run(cfg)
    try:
        yield run
    except TrackingLost:
        raise
    except BaseException as error:
        end(run.client, run.run_id, *failure(error), run)
        raise
    run.client.set_terminated(run.run_id, "FINISHED")


def end(client, run_id: str, status: str, error: str | None = None, run: Run | None = None) -> None:
    """End a run that went wrong, its last cost points and the error first; never raise
    over that error (a store that no longer answers leaves it to the reaper)."""
    with contextlib.suppress(Exception):
        if run is not None:
            run.flush()
        if error is not None:
            client.set_tag(run_id, ERROR_TAG, error[:5000])
    with contextlib.suppress(Exception):
        client.set_terminated(run_id, status)
