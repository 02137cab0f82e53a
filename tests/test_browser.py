"""What a user sees in the MLflow UI, in a real browser: `mlflow ui` on 127.0.0.1 with a
fresh store holding a 2-job sweep, its runs page rendered by headless Chromium (Debian's
``chromium``; `.ci/run` installs it). The runs table must name both jobs (not repeat
one name) and show their data in the Dataset column."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from tests import browser
from tests.mlflow_server import serve

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(browser.binary() is None, reason="no chromium on this machine (apt-get install chromium)"),
]


def test_the_runs_page_names_both_jobs_and_their_dataset(tmp_path):
    store = f"sqlite:///{tmp_path / 'server.db'}"
    env = {**os.environ, "MLFLOW_TRACKING_URI": store, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "src.train", "-m", "dataset=moons", "num_iterations=300", "lambd=0,0.7",
                    f"hydra.sweep.dir={tmp_path / 'multirun'}"], cwd=tmp_path, env=env, check=True, timeout=300,
                   capture_output=True)
    experiment = MlflowClient(store).get_experiment_by_name("improving-dnn").experiment_id
    with serve(tmp_path, command="ui") as base, browser.Chromium(tmp_path / "chromium") as chromium:
        page = chromium.open(f"{base}/#/experiments/{experiment}/runs")
        chromium.wait_for(page, "document.body.innerText.includes('sweep moons')")
        browser.expand_child_runs(chromium, page)  # a sweep's jobs are nested under its parent run
        chromium.wait_for(page, "document.body.innerText.includes('moons he lambd=0.7')")
        text = chromium.text(page)
    names = [line.strip() for line in text.splitlines()]
    assert "moons he lambd=0" in names and "moons he lambd=0.7" in names
    assert any(line.startswith("sweep moons: ") for line in names), names
    datasets = [line for line in names if line.startswith("moons (")]  # the Dataset column: name (digest)
    assert len(datasets) >= 2, text
