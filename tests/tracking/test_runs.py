"""src/tracking/: where runs go, what each run logs (names, tags, params, cost, result,
dataset inputs, the model), how failures end."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from src.tracking import runs
from src.tracking import store as tracking_store
from src.config import RunConfig, compose
from src.train import run_job

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A fresh SQLite store in tmp_path; returns its URI."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "unit")
    return uri


def make_cfg(*overrides: str):
    return compose(list(overrides))


def only_run(uri: str):
    client = MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name("unit").experiment_id])
    assert len(runs) == 1
    return client, runs[0]


def test_default_store_is_the_project_root_whatever_the_cwd(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    monkeypatch.chdir(tmp_path)
    assert tracking_store.tracking_uri() == f"sqlite:///{ROOT / 'mlflow.db'}"
    assert tracking_store.experiment_name() == "improving-dnn"


def test_environment_overrides_store_and_experiment(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "mine")
    assert tracking_store.tracking_uri() == "http://127.0.0.1:5000"
    assert tracking_store.experiment_name() == "mine"


def test_params_use_contract_names_and_flatten_the_rest():
    cfg = make_cfg("dataset=football", "init=glorot", "layers=[20,3]")
    params = runs.run_params(cfg)
    for name in runs.CONTRACT_PARAMS:
        assert name in params
    assert params["dataset"] == "football"
    assert params["init"] == "glorot"
    assert params["layers"] == "[20, 3]"
    assert params["dataset.n_train"] == str(cfg.dataset.n_train)
    assert "dataset.name" not in params


def test_run_logs_params_batched_cost_metrics_and_artifacts(store, tmp_path, monkeypatch):
    calls = []
    log_batch = MlflowClient.log_batch
    monkeypatch.setattr(MlflowClient, "log_batch", lambda self, *a, **k: calls.append(k) or log_batch(self, *a, **k))
    cfg = make_cfg("dataset=moons", "num_iterations=1200", "cost_every=1", f"out_dir={tmp_path / 'run'}")
    run_job(cfg)  # what python -m src.train runs

    client, logged = only_run(store)
    assert logged.info.status == "FINISHED"
    assert logged.info.run_name == "moons he"  # the dataset and the init: nothing else was set
    assert logged.data.params["dataset"] == "moons" and logged.data.params["num_iterations"] == "1200"
    assert len(logged.data.params["dataset_hash"]) == 64
    history = client.get_metric_history(logged.info.run_id, "cost")
    assert [m.step for m in history] == list(range(1200))
    cost_batches = [c for c in calls if c.get("metrics") and c["metrics"][0].key == "cost"]
    assert len(cost_batches) <= 4  # 1200 points in batches, not 1200 calls
    for name in ("train_accuracy", "dev_accuracy", "test_accuracy"):
        assert 0 <= logged.data.metrics[name] <= 1
    assert logged.data.metrics["gradcheck_difference"] < 1e-6  # computed by the job, logged by tracking
    assert logged.data.tags["gradcheck_verdict"] == "pass"
    logged_files = {a.path for a in client.list_artifacts(logged.info.run_id)}
    assert {"config.yaml", "params.npz", "cost.png", "boundary.png", "metrics.json", "tags.json"} <= logged_files
    tags = logged.data.tags
    assert "mlflow.parentRunId" not in tags  # a single run has no parent
    assert tags["mlflow.source.type"] == "LOCAL" and tags["mlflow.user"]
    if (ROOT / ".git").exists():
        assert len(tags["mlflow.source.git.commit"]) == 40 and tags["git_dirty"] in ("true", "false")
    # the data as MLflow dataset inputs: one per split, the dataset hash as digest
    inputs = client.get_run(logged.info.run_id).inputs.dataset_inputs
    contexts = sorted(i.tags[0].value for i in inputs)
    assert contexts == ["dev", "test", "train"]
    assert {i.dataset.name for i in inputs} == {"moons"}
    from src.recipe import load_dataset

    dataset = load_dataset(RunConfig.parse(cfg))
    assert dataset.digest() == logged.data.params["dataset_hash"]
    assert {i.tags[0].value: i.dataset.digest for i in inputs} == {s: dataset.digest(s)[:36] for s in ("train", "dev", "test")}
    assert all(i.dataset.source_type == "code" and "moons" in i.dataset.source for i in inputs)
    experiment = client.get_experiment(logged.info.experiment_id)
    assert "one run per `python -m src.train` job" in experiment.tags["mlflow.note.content"]


def test_artifacts_of_a_sqlite_store_go_beside_it(store, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path / "..")  # not the store's directory
    client, experiment_id = tracking_store.open_store()
    assert client.get_experiment(experiment_id).artifact_location == (tmp_path / "mlruns").as_uri()


def test_an_exception_ends_the_run_failed_with_the_message(store):
    with pytest.raises(RuntimeError):
        with runs.start(make_cfg()) as run:
            run.log_cost(0, 0.7)
            raise RuntimeError("boom at iteration 3")
    client, logged = only_run(store)
    assert logged.info.status == "FAILED"
    assert logged.data.tags["error"] == "RuntimeError: boom at iteration 3"
    assert [m.value for m in client.get_metric_history(logged.info.run_id, "cost")] == [0.7]


def test_tracking_false_touches_no_store(store, tmp_path):
    with runs.start(make_cfg("tracking=false")) as run:
        run.log_cost(0, 1.0)
        run.log_result(None, tmp_path)
    assert not (tmp_path / "mlflow.db").exists()


def test_jobs_without_the_environment_find_the_parent_by_sweep_id(store, monkeypatch):
    # e.g. Ray workers on another machine: only the shared store tells them.
    monkeypatch.delenv(runs.PARENT_RUN_ENV, raising=False)
    client, experiment_id = tracking_store.open_store()
    tags = {"sweep_id": "outputs/multirun/x", "sweep_parent": "true"}
    old = client.create_run(experiment_id, tags=tags).info.run_id
    client.set_terminated(old, "FINISHED")  # an earlier sweep into the same directory
    parent = client.create_run(experiment_id, tags=tags).info.run_id
    assert runs.find_parent(client, experiment_id, "outputs/multirun/x") == parent
    assert runs.find_parent(client, experiment_id, "outputs/multirun/y") is None


def test_experiment_creation_race_is_lost_gracefully():
    from mlflow.exceptions import MlflowException

    class Client:  # another process creates the experiment between our get and create
        created = False

        def get_experiment_by_name(self, name):
            return type("E", (), {"experiment_id": "7"}) if self.created else None

        def create_experiment(self, name, artifact_location=None, tags=None):
            self.created = True
            raise MlflowException("already exists", error_code="RESOURCE_ALREADY_EXISTS")

    assert tracking_store._experiment_id(Client(), "x", None) == "7"


@pytest.mark.slow
def test_parallel_processes_on_a_fresh_store_do_not_race(tmp_path):
    # Without open_store's lock most of these die in MLflow's schema migration
    # ("table _alembic_tmp_metrics already exists", "duplicate column name").
    db = tmp_path / "new" / "mlflow.db"
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{db}", "MLFLOW_EXPERIMENT_NAME": "race", "PYTHONPATH": str(ROOT)}
    code = "from src.tracking import store; client, experiment = store.open_store(); client.create_run(experiment)"
    processes = [subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True) for _ in range(8)]
    errors = [p.communicate(timeout=300)[1] for p in processes]
    assert [p.returncode for p in processes] == [0] * 8, errors
    client = MlflowClient(env["MLFLOW_TRACKING_URI"])
    assert len(client.search_runs([client.get_experiment_by_name("race").experiment_id])) == 8


SPLITS = {"digest": "0" * 64, "features": 2, "splits": {s: {"digest": d * 64, "examples": 10} for s, d in zip(("train", "dev", "test"), "abc")}}


def _log_inputs_at_the_barrier(uri, experiment_id, barrier, results):
    client = MlflowClient(uri)
    run_id = client.create_run(experiment_id).info.run_id
    barrier.wait()
    try:
        runs.log_inputs(client, run_id, runs.dataset_inputs({"name": "circles", "n_train": 10}, SPLITS))
        results.put("ok")
    except Exception as error:  # noqa: BLE001 (reported, and the test fails on it)
        results.put(str(error).splitlines()[0])


@pytest.mark.slow
def test_parallel_jobs_logging_the_same_new_dataset_all_log_it(tmp_path, monkeypatch):
    """MLflow's log_inputs alone lost about one job in eight here (a UNIQUE constraint on
    the datasets table, the job's run then left without its data and model)."""
    import multiprocessing

    monkeypatch.setenv("MLFLOW_SQLALCHEMYSTORE_POOLCLASS", "NullPool")  # no connection crosses the fork
    context = multiprocessing.get_context("fork")
    for trial in range(3):
        uri = f"sqlite:///{tmp_path / f'{trial}.db'}"
        experiment_id = MlflowClient(uri).create_experiment("race")
        barrier, results = context.Barrier(8), context.Queue()
        jobs = [context.Process(target=_log_inputs_at_the_barrier, args=(uri, experiment_id, barrier, results)) for _ in range(8)]
        for job in jobs:
            job.start()
        outcomes = [results.get(timeout=120) for _ in jobs]
        for job in jobs:
            job.join(timeout=120)
        assert outcomes == ["ok"] * 8
        client = MlflowClient(uri)
        logged = client.search_runs([experiment_id])
        assert len(logged) == 8 and all(len(run.inputs.dataset_inputs) == 3 for run in logged)


def test_log_inputs_tries_again_only_after_a_duplicate_key():
    from mlflow.exceptions import MlflowException

    class Client:
        def __init__(self, *errors):
            self.errors, self.calls = list(errors), 0

        def log_inputs(self, run_id, datasets):
            self.calls += 1
            if self.errors:
                raise self.errors.pop(0)

    clash = MlflowException("(sqlite3.IntegrityError) UNIQUE constraint failed: datasets.experiment_id, datasets.name")
    client = Client(clash)
    runs.log_inputs(client, "r", [])
    assert client.calls == 2
    with pytest.raises(MlflowException, match="UNIQUE"):
        runs.log_inputs(Client(clash, clash, clash), "r", [])
    gone = Client(MlflowException("Run 'r' not found"))
    with pytest.raises(MlflowException, match="not found"):
        runs.log_inputs(gone, "r", [])
    assert gone.calls == 1


@pytest.mark.slow
def test_cli_single_run_and_bad_input(tmp_path):
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}", "MLFLOW_EXPERIMENT_NAME": "unit", "PYTHONPATH": str(ROOT)}
    common = [sys.executable, "-m", "src.train", "num_iterations=300", f"hydra.run.dir={tmp_path / 'run'}"]
    ok = subprocess.run(common, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run([*common, "lambd=-1"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines()[-1] == "error: lambd: must be >= 0, got -1"
    assert "Traceback" not in bad.stderr
    client = MlflowClient(env["MLFLOW_TRACKING_URI"])
    runs = client.search_runs([client.get_experiment_by_name("unit").experiment_id], order_by=["attributes.start_time"])
    assert [r.info.status for r in runs] == ["FINISHED", "FAILED"]
    assert runs[1].data.tags["error"] == "InputError: lambd: must be >= 0, got -1"
