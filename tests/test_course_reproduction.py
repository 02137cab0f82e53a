"""The published course tables, reproduced through the real CLI presets and read back
from MLflow, as a user would compare them."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def run_train(tmp_path: Path, *overrides: str) -> dict:
    out = tmp_path / "run"
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    proc = subprocess.run(
        [sys.executable, "-m", "src.train", *overrides, f"out_dir={out}", f"hydra.run.dir={tmp_path / 'hydra'}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads((out / "metrics.json").read_text())


def tracked(tmp_path: Path) -> tuple[dict, list]:
    """The one run's metrics and its cost history, from the MLflow store the CLI logged to."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    [run] = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert run.info.status == "FINISHED"
    return run.data.metrics, client.get_metric_history(run.info.run_id, "cost")


@pytest.mark.parametrize("init, train, test", [("zeros", 0.5, 0.5), ("random", 0.83, 0.86), ("he", 0.9933, 0.96)])
def test_course_init_table(tmp_path, init, train, test):
    metrics = run_train(tmp_path, "experiment=course_init", f"init={init}")
    assert round(metrics["train_accuracy"], 4) == train
    assert round(metrics["test_accuracy"], 4) == test


@pytest.mark.parametrize(
    "override, train, test", [("lambd=0", 0.9479, 0.915), ("lambd=0.7", 0.9384, 0.93), ("keep_prob=0.86", 0.9289, 0.95)]
)
def test_course_regularization_table_on_the_shipped_data(tmp_path, override, train, test):
    # no dataset.path: the preset uses the project's own copy of the course's data.mat
    run_train(tmp_path, "experiment=course_regularization", override)
    metrics, _ = tracked(tmp_path)
    assert round(metrics["train_accuracy"], 4) == train
    assert round(metrics["test_accuracy"], 4) == test


# Week 2's optimization notebook: the printed costs after epochs 0, 1000, ..., 4000 (6 decimals)
# and the train accuracy of each of its seven runs.
WEEK2 = {
    "optimizer=gd learning_rate=0.0007": (
        0.7166666666666667, [0.702405, 0.668101, 0.635288, 0.600491, 0.573367]),
    "optimizer=momentum learning_rate=0.0007": (
        0.7166666666666667, [0.702413, 0.668167, 0.635388, 0.600591, 0.573444]),
    "optimizer=adam learning_rate=0.0007": (
        0.9433333333333334, [0.702166, 0.167845, 0.141316, 0.138788, 0.136066]),
    "optimizer=gd learning_rate=0.1 lr_decay.schedule=inverse_time lr_decay.decay_rate=1": (
        0.6533333333333333, [0.701091, 0.661884, 0.65862, 0.656765, 0.655486]),
    "optimizer=gd learning_rate=0.1 lr_decay.schedule=staircase lr_decay.decay_rate=1 lr_decay.interval=1000": (
        0.9433333333333334, [0.701091, 0.127161, 0.120304, 0.117033, 0.117512]),
    "optimizer=momentum learning_rate=0.1 lr_decay.schedule=staircase lr_decay.decay_rate=1 lr_decay.interval=1000": (
        0.9533333333333334, [0.702226, 0.128974, 0.125965, 0.123375, 0.123218]),
    "optimizer=adam learning_rate=0.01 lr_decay.schedule=staircase lr_decay.decay_rate=1 lr_decay.interval=1000": (
        0.94, [0.699346, 0.130074, 0.129826, 0.129282, 0.128361]),
}


@pytest.mark.parametrize("overrides", WEEK2)
def test_course_optimization_table(tmp_path, overrides):
    accuracy, costs = WEEK2[overrides]
    run_train(tmp_path, "experiment=course_optimization", *overrides.split())
    metrics, history = tracked(tmp_path)
    assert round(metrics["train_accuracy"], 4) == round(accuracy, 4)
    by_epoch = {point.step: point.value for point in history}
    assert [round(by_epoch[epoch], 6) for epoch in (0, 1000, 2000, 3000, 4000)] == costs
