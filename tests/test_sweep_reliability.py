"""Sweeps that go wrong: a diverging job, and many jobs on a brand-new store."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

from tests.test_sweep import ROOT, client_runs

pytestmark = pytest.mark.slow


def sweep(tmp_path, uri: str, *overrides: str, timeout: float = 900) -> subprocess.CompletedProcess:
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "MLFLOW_EXPERIMENT_NAME": "sweep", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "src.train", "-m", f"hydra.sweep.dir={tmp_path / 'multirun'}", *overrides]
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout)


def test_a_diverging_job_fails_alone(tmp_path):
    # With L2, each step scales W by (1 - learning_rate * lambd / m): at learning_rate 3
    # that is -9, so the weights overflow within a few dozen steps; the others converge.
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    proc = sweep(tmp_path, uri, "lambd=1000", "learning_rate=0.01,0.1,0.3,3", "num_iterations=400", "cost_every=10")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "RuntimeWarning" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("error: cost is nan at iteration ")
    _, runs = client_runs(uri)
    children = {r["params"]["learning_rate"]: r for r in runs if "mlflow.parentRunId" in r["tags"]}
    assert {lr: r["status"] for lr, r in children.items()} == {
        "0.01": "FINISHED", "0.1": "FINISHED", "0.3": "FINISHED", "3": "FAILED"}
    error = children["3"]["tags"]["error"]
    assert error.startswith("DivergedError: cost is nan at iteration") and "lower learning_rate" in error


def test_thirty_two_parallel_jobs_on_a_fresh_store(tmp_path):
    db = tmp_path / "fresh" / "mlflow.db"
    proc = sweep(tmp_path, f"sqlite:///{db}", "seed=range(32)", "hydra.launcher.n_jobs=16", "num_iterations=100")
    assert proc.returncode == 0, proc.stderr[-3000:]
    _, runs = client_runs(f"sqlite:///{db}")
    children = [r for r in runs if "mlflow.parentRunId" in r["tags"]]
    assert len(children) == 32 and {r["status"] for r in children} == {"FINISHED"}
    assert sorted(int(r["params"]["seed"]) for r in children) == list(range(32))
    assert [r["status"] for r in runs if "mlflow.parentRunId" not in r["tags"]] == ["FINISHED"]
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
