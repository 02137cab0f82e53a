"""Same config and seed -> bit-identical parameters and metrics, in both rng
modes, across processes and across BLAS thread counts."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from src.config import run_config
from src.recipe import train

ROOT = Path(__file__).resolve().parents[1]


def config(*overrides: str):
    return run_config(list(overrides))


@pytest.mark.parametrize("rng", ["modern", "course"])
def test_same_seed_same_bits_in_process(rng):
    overrides = [f"rng={rng}", "keep_prob=0.8", "lambd=0.1", "num_iterations=300", "dataset=moons"]
    a, b = train(config(*overrides)), train(config(*overrides))
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
    assert a.metrics == b.metrics and a.costs == b.costs


def test_different_seeds_differ_in_modern_mode():
    a = train(config("seed=1", "num_iterations=10"))
    b = train(config("seed=2", "num_iterations=10"))
    assert not np.array_equal(a.params["W1"], b.params["W1"])


def _run(tmp_path: Path, name: str, threads: str, *overrides: str) -> bytes:
    out = tmp_path / name
    env = {**os.environ, "OPENBLAS_NUM_THREADS": threads, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads,
           "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    subprocess.run(
        [sys.executable, "-m", "src.train", *overrides, f"out_dir={out}", f"hydra.run.dir={tmp_path / 'h' / name}"],
        cwd=ROOT, env=env, check=True, capture_output=True, timeout=300,
    )
    return (out / "params.npz").read_bytes() + (out / "metrics.json").read_bytes() + (out / "costs.csv").read_bytes()


@pytest.mark.slow
@pytest.mark.parametrize("rng", ["modern", "course"])
def test_bit_identical_across_processes_and_blas_threads(tmp_path, rng):
    # Wide layers so the matrix products are big enough for BLAS to consider
    # threading; the result must not depend on the thread count.
    overrides = (f"rng={rng}", "layers=[64,32]", "keep_prob=0.9", "num_iterations=200", "dataset=moons")
    one = _run(tmp_path, "a", "1", *overrides)
    again = _run(tmp_path, "b", "1", *overrides)
    two_threads = _run(tmp_path, "c", "2", *overrides)
    assert one == again
    assert one == two_threads


@pytest.mark.slow
def test_serial_and_parallel_sweeps_give_the_same_bits(tmp_path):
    outputs = {}
    for launcher in ("basic", "joblib_fork", "joblib"):
        env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / launcher / 'mlflow.db'}"}
        subprocess.run(
            [sys.executable, "-m", "src.train", "-m", f"hydra/launcher={launcher}", "seed=1,2", "rng=modern,course",
             "keep_prob=0.9", "num_iterations=200", "dataset=moons", f"hydra.sweep.dir={tmp_path / launcher}"],
            cwd=ROOT, env=env, check=True, capture_output=True, timeout=300,
        )
        outputs[launcher] = {
            job.name: (job / "params.npz").read_bytes() + (job / "metrics.json").read_bytes()
            for job in (tmp_path / launcher).iterdir() if (job / "params.npz").is_file()
        }
    assert len(outputs["basic"]) == 4
    assert outputs["basic"] == outputs["joblib_fork"] == outputs["joblib"]
