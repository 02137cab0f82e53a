"""Hyperparameter search: log-scale random search as a Hydra (Optuna) sweep, coarse to fine."""
from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from src.config import CONF_DIR as CONF  # importing src.config gives Hydra its defaults (optimizer/*)
from src.errors import InputError
from src.search import command, fine_ranges

ROOT = Path(__file__).resolve().parents[1]


def compose_hydra(*overrides):
    with initialize_config_dir(str(CONF), version_base="1.3"):
        return compose("config", list(overrides), return_hydra_config=True)


def test_search_random_samples_both_rates_on_a_log_scale():
    cfg = compose_hydra("experiment=search_random")
    sweeper = cfg.hydra.sweeper
    assert sweeper._target_.endswith("OptunaSweeper") and sweeper.sampler._target_ == "optuna.samplers.RandomSampler"
    assert sweeper.storage is None and sweeper.n_trials == 20 and sweeper.direction == "maximize"
    assert sweeper.params.lambd == "tag(log, interval(0.0001, 10.0))"
    assert sweeper.params.learning_rate == "tag(log, interval(0.0001, 1.0))"
    assert cfg.dataset.name == "football"


def test_search_fine_takes_the_ranges_it_is_given():
    cfg = compose_hydra("experiment=search_fine", "search.lambd=[0.05,2]")
    assert cfg.hydra.sweeper.params.lambd == "tag(log, interval(0.05, 2))"
    assert cfg.hydra.sweeper.study_name == "search_fine"


def test_fine_ranges_box_the_best_trials_in_log_space():
    trials = pd.DataFrame({
        "params.lambd": ["0.001", "0.01", "0.1", "5"],
        "params.learning_rate": ["0.1", "0.2", "0.05", "0.0001"],
        "metrics.dev_accuracy": [0.80, 0.86, 0.85, 0.5],
    })
    ranges = fine_ranges(trials, top=2, margin=0.0)
    assert ranges == {"lambd": (0.01, 0.1), "learning_rate": (0.05, 0.2)}
    wide = fine_ranges(trials, top=2, margin=1.0, bounds={"learning_rate": (1e-4, 1.0)})
    assert wide["lambd"] == pytest.approx((0.001, 1.0)) and wide["learning_rate"] == (0.005, 1.0)
    assert command(ranges) == "python -m src.train -m experiment=search_fine search.lambd=[0.01,0.1] search.learning_rate=[0.05,0.2]"
    with pytest.raises(InputError, match="no column"):
        fine_ranges(trials, metric="test_accuracy")


@pytest.mark.slow
def test_twenty_trials_are_twenty_child_runs_spanning_three_decades_of_lambd(tmp_path):
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "MLFLOW_EXPERIMENT_NAME": "search", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "src.train", "-m", "experiment=search_random", "num_iterations=50",
         f"hydra.sweep.dir={tmp_path / 'multirun'}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("search")
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    parents = [r for r in runs if r.data.tags.get("sweep_parent") == "true"]
    assert len(parents) == 1
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id]
    assert len(children) == 20
    assert sorted(int(r.data.tags["hydra_job_num"]) for r in children) == list(range(20))
    lambds = [float(r.data.params["lambd"]) for r in children]
    rates = [float(r.data.params["learning_rate"]) for r in children]
    assert all(1e-4 <= v <= 10 for v in lambds) and all(1e-4 <= v <= 1 for v in rates)
    assert math.log10(max(lambds) / min(lambds)) >= 3
    assert len(set(lambds)) == 20  # random, not a grid


def test_unknown_sweep_says_so(tmp_path, monkeypatch, capsys):
    from src import search
    from src.tracking import store

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "search")
    store.open_store()
    with pytest.raises(SystemExit) as exit_info:
        search.main(["--sweep", "deadbeef"])
    assert exit_info.value.code == 1
    assert capsys.readouterr().err == "error: --sweep: no sweep deadbeef in experiment 'search'\n"
