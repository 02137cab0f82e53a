"""The screenshots in docs/: MLflow's runs table and compare view of a fresh sweep.

    python docs/screenshots.py      (needs chromium; writes docs/mlflow-runs.png, docs/mlflow-compare.png)

A fresh store in a temporary folder, `python -m src.train -m lambd=0,0.7 keep_prob=1,0.86`
on football, `mlflow ui` on 127.0.0.1, and headless Chromium (tests/browser.py).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mlflow.tracking import MlflowClient  # noqa: E402

from tests import browser  # noqa: E402
from tests.mlflow_server import serve  # noqa: E402

CLOSE_ASSISTANT = "document.querySelectorAll('button[aria-label=\"Close\"]').forEach(button => button.click())"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        store = f"sqlite:///{tmp / 'server.db'}"
        env = {**os.environ, "MLFLOW_TRACKING_URI": store, "PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable, "-m", "src.train", "-m", "dataset=football", "layers=[20,3]", "num_iterations=3000",
                        "learning_rate=0.1", "lambd=0,0.7", "keep_prob=1,0.86", f"hydra.sweep.dir={tmp / 'multirun'}"],
                       cwd=tmp, env=env, check=True, timeout=600)
        client = MlflowClient(store)
        experiment = client.get_experiment_by_name("improving-dnn").experiment_id
        children = [r.info.run_id for r in client.search_runs([experiment]) if "mlflow.parentRunId" in r.data.tags]
        with serve(tmp, command="ui") as base, browser.Chromium(tmp / "chromium") as chromium:
            page = chromium.open(f"{base}/#/experiments/{experiment}/runs")
            chromium.wait_for(page, "document.body.innerText.includes('sweep football')")
            chromium.evaluate(page, CLOSE_ASSISTANT)
            browser.expand_child_runs(chromium, page)
            chromium.wait_for(page, "document.body.innerText.includes('football he lambd=0.7 keep_prob=0.86')")
            time.sleep(2)  # the Models and Dataset cells fill in after the names
            chromium.screenshot(page, ROOT / "docs" / "mlflow-runs.png")
            runs = urllib.parse.quote(json.dumps(children))
            page = chromium.open(f"{base}/#/compare-runs?runs={runs}&experiments={urllib.parse.quote(json.dumps([experiment]))}")
            chromium.wait_for(page, "document.body.innerText.includes('Parallel Coordinates')")
            chromium.evaluate(page, CLOSE_ASSISTANT)
            time.sleep(2)
            chromium.screenshot(page, ROOT / "docs" / "mlflow-compare.png")
    print("wrote docs/mlflow-runs.png, docs/mlflow-compare.png")


if __name__ == "__main__":
    main()
