"""Every run's trained network, back from MLflow: ``mlflow.pyfunc.load_model("runs:/ID/model")``
predicts what the project predicts, from rows as the dataset gives them (a run that
standardised its input, the default, standardises them too), with no pickle anywhere."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from src.config import RunConfig, compose
from src.nn.model import predict
from src.recipe import load_dataset, load_raw_dataset
from src.train import run_job

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """A tracked softmax run (digits, batch norm) and a sigmoid run, as `python -m src.train` makes them."""
    tmp = tmp_path_factory.mktemp("model")
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        runs = {}
        for name, overrides in {"moons": ["dataset=moons", "num_iterations=300"],
                                "digits": ["dataset=digits", "layers=[16]", "batch_norm=true", "num_iterations=50"]}.items():
            cfg = compose([*overrides, f"out_dir={tmp / name}"])
            run_job(cfg)
            client = MlflowClient(uri)
            [run] = client.search_runs([e.experiment_id for e in client.search_experiments()],
                                       filter_string=f"params.out_dir = '{tmp / name}'")
            runs[name] = (run.info.run_id, cfg, tmp / name)
        yield uri, runs


@pytest.mark.parametrize("name", ["moons", "digits"])
def test_the_logged_model_predicts_as_the_project_does(logged, name):
    import mlflow

    uri, runs = logged
    run_id, cfg, out_dir = runs[name]
    mlflow.set_tracking_uri(uri)
    model = mlflow.pyfunc.load_model(f"runs:/{run_id}/model")
    with np.load(out_dir / "params.npz") as f:
        params = {k: f[k] for k in f.files}
    run = RunConfig.parse(cfg)
    assert run.normalize and (out_dir / "normalization.json").is_file()
    expected = predict(load_dataset(run).test.X, params).ravel()  # as the run's own test accuracy counts
    raw = load_raw_dataset(run).test
    rows = np.ascontiguousarray(raw.X.T)  # examples as rows: (m, n_features), as the dataset gives them
    np.testing.assert_array_equal(model.predict(rows), expected)
    np.testing.assert_array_equal(np.asarray(model.predict(pd.DataFrame(rows))).ravel(), expected)
    accuracy = json.loads((out_dir / "metrics.json").read_text())["test_accuracy"]
    assert np.mean(model.predict(rows) == raw.Y.ravel()) == pytest.approx(accuracy, abs=1e-12)


def test_a_run_without_normalize_logs_a_model_that_takes_the_examples_as_they_are(tmp_path, monkeypatch):
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    cfg = compose(["dataset=moons", "num_iterations=100", "normalize=false", f"out_dir={tmp_path / 'run'}"])
    run_job(cfg)
    assert not (tmp_path / "run" / "normalization.json").exists()
    client = MlflowClient(uri)
    [run] = client.search_runs([e.experiment_id for e in client.search_experiments()])
    mlflow.set_tracking_uri(uri)
    model = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model")
    with np.load(tmp_path / "run" / "params.npz") as f:
        params = {k: f[k] for k in f.files}
    test = load_raw_dataset(RunConfig.parse(cfg)).test
    np.testing.assert_array_equal(model.predict(np.ascontiguousarray(test.X.T)), predict(test.X, params).ravel())


def test_the_model_is_code_and_weights_with_a_signature_and_no_pickle(logged):
    uri, runs = logged
    run_id, _, _ = runs["moons"]
    client = MlflowClient(uri)
    [model] = client.search_logged_models([client.get_run(run_id).info.experiment_id],
                                          filter_string=f"source_run_id = '{run_id}'")
    assert model.name == "model"
    root = Path(model.artifact_location.removeprefix("file://"))
    files = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    assert "model.py" in files and "artifacts/params.npz" in files  # models-from-code: the class is a file
    assert not any(f.endswith((".pkl", ".pickle", ".cloudpickle")) for f in files), files
    mlmodel = (root / "MLmodel").read_text()
    assert "signature:" in mlmodel and "input_example" in mlmodel
    requirements = (root / "requirements.txt").read_text().split()
    assert [r.split("==")[0] for r in requirements] == ["numpy", "mlflow"]  # explicit: nothing inferred


@pytest.mark.slow
def test_mlflow_models_predict_works_offline_on_a_csv(logged, tmp_path):
    uri, runs = logged
    run_id, cfg, out_dir = runs["moons"]
    raw = load_raw_dataset(RunConfig.parse(cfg)).test
    pd.DataFrame(raw.X.T, columns=["x1", "x2"]).to_csv(tmp_path / "X.csv", index=False)  # as the dataset gives them
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "mlflow", "models", "predict", "-m", f"runs:/{run_id}/model", "-i", str(tmp_path / "X.csv"),
         "-t", "csv", "-o", str(tmp_path / "out.json"), "--env-manager", "local"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    with np.load(out_dir / "params.npz") as f:
        params = {k: f[k] for k in f.files}
    predictions = json.loads((tmp_path / "out.json").read_text())["predictions"]
    assert predictions == predict(load_dataset(RunConfig.parse(cfg)).test.X, params).ravel().tolist()


def test_logging_a_model_maps_no_installed_distribution(tmp_path):
    """MLflow's check of the model's requirements maps every installed distribution to its
    modules first (~0.35 s a process): ours are told instead, and MLflow's map is left
    empty after, for whatever else the process logs."""
    script = """
import sys, importlib_metadata
from mlflow.utils import requirements_utils
calls = []
importlib_metadata.packages_distributions = lambda: calls.append(1) or {}
from src.config import compose
from src.train import run_job
run_job(compose(["dataset=moons", "num_iterations=20", "out_dir=" + sys.argv[1]]))
assert not calls, "mapped every installed distribution"
assert requirements_utils._MODULES_TO_PACKAGES is None
"""
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "run")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    client = MlflowClient(env["MLFLOW_TRACKING_URI"])
    [model] = client.search_logged_models([e.experiment_id for e in client.search_experiments()])
    requirements = (Path(model.artifact_location.removeprefix("file://")) / "requirements.txt").read_text().split()
    assert [r.split("==")[0] for r in requirements] == ["numpy", "mlflow"]
