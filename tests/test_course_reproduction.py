"""The published course tables, reproduced through the real CLI presets."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COURSE_MAT = ROOT.parent / "shared" / "course" / "data.mat"

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


@pytest.mark.parametrize("init, train, test", [("zeros", 0.5, 0.5), ("random", 0.83, 0.86), ("he", 0.9933, 0.96)])
def test_course_init_table(tmp_path, init, train, test):
    metrics = run_train(tmp_path, "experiment=course_init", f"init={init}")
    assert round(metrics["train_accuracy"], 4) == train
    assert round(metrics["test_accuracy"], 4) == test


@pytest.mark.skipif(not COURSE_MAT.is_file(), reason=f"the course's data.mat is not at {COURSE_MAT}")
@pytest.mark.parametrize(
    "override, train, test", [("lambd=0", 0.9479, 0.915), ("lambd=0.7", 0.9384, 0.93), ("keep_prob=0.86", 0.9289, 0.95)]
)
def test_course_regularization_table(tmp_path, override, train, test):
    metrics = run_train(tmp_path, "experiment=course_regularization", f"dataset.path={COURSE_MAT}", override)
    assert round(metrics["train_accuracy"], 4) == train
    assert round(metrics["test_accuracy"], 4) == test
