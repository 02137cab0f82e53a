"""A run directory logged into MLflow after the fact: a new run, or the rest of a run."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from src.tracking import reap, relog

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A complete untracked run directory (a short circles run, no MLflow)."""
    out = tmp_path_factory.mktemp("relog") / "run"
    subprocess.run([sys.executable, "-m", "src.train", "num_iterations=300", "tracking=false", f"out_dir={out}",
                    f"hydra.run.dir={out.parent / 'hydra'}"], cwd=ROOT, check=True, capture_output=True, timeout=300)
    return out


def test_relog_makes_a_finished_run_of_the_directory(run_dir, monkeypatch, tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    run_id = relog.relog(run_dir)
    run = MlflowClient(uri).get_run(run_id)
    assert run.info.status == "FINISHED" and run.info.run_name == f"circles he (logged from {run_dir})"
    assert run.data.params["dataset"] == "circles" and run.data.params["num_iterations"] == "300"
    assert run.data.tags["diagnosis"] and run.data.tags["relogged_from"] == str(run_dir)
    history = MlflowClient(uri).get_metric_history(run_id, "cost")
    assert sorted((p.step, p.value) for p in history) == relog.cost_points(run_dir / "costs.csv")


def test_relog_completes_a_run_without_doubling_its_cost_points(run_dir, monkeypatch, tmp_path):
    from mlflow.entities import Metric

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    client = MlflowClient(uri)
    experiment = client.create_experiment("Default-relog")
    run_id = client.create_run(experiment).info.run_id
    points = relog.cost_points(run_dir / "costs.csv")
    client.log_batch(run_id, metrics=[Metric("cost", value, 0, step) for step, value in points[:2]])  # sent before the loss
    assert relog.relog(run_dir, run_id) == run_id
    history = client.get_metric_history(run_id, "cost")
    assert sorted(p.step for p in history) == [step for step, _ in points]
    assert client.get_run(run_id).info.status == "FINISHED"


def test_relog_of_a_run_reaped_meanwhile_leaves_no_error(run_dir, monkeypatch, tmp_path):
    """The store was down, the job exited, the next run reaped its run KILLED: logged
    complete now, it is FINISHED without an error, the reaper's words kept aside."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    client = MlflowClient(uri)
    run_id = client.create_run(client.create_experiment("reaped"), tags={"host": reap.host(), "pid": "999999999"}).info.run_id
    assert reap.reap(client, [client.get_run(run_id).info.experiment_id]) == [run_id]
    relog.relog(run_dir, run_id)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED" and "error" not in run.data.tags
    assert run.data.tags["ended_before_relog"].startswith("KILLED: its process 999999999")


def test_an_incomplete_directory_is_one_line_and_exit_1(tmp_path):
    (tmp_path / "config.yaml").write_text("init: he\n")
    proc = subprocess.run([sys.executable, "-m", "src.tracking.relog", str(tmp_path)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert str(tmp_path) in proc.stderr and "metrics.json" in proc.stderr and not (tmp_path / "mlflow.db").exists()
