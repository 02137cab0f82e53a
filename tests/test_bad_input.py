"""The bad-input catalogue, through the real CLIs.

Every case must end with exit status 1, exactly one line on stderr naming the
offending key or file, no traceback, no new files in data/ or reports/, and no
MLflow run left RUNNING.
"""
from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.io

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _mat(path: Path, **overrides) -> Path:
    rng = np.random.default_rng(0)
    arrays = {"X": rng.standard_normal((20, 2)), "y": (rng.random((20, 1)) > 0.5).astype(float),
              "Xval": rng.standard_normal((10, 2)), "yval": (rng.random((10, 1)) > 0.5).astype(float)}
    arrays.update(overrides)
    scipy.io.savemat(path, {k: v for k, v in arrays.items() if v is not None})
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _X_with(value) -> np.ndarray:
    X = np.random.default_rng(1).standard_normal((20, 2))
    X[3, 1] = value
    return X


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def _npy(path: Path) -> Path:
    with open(path, "wb") as f:  # np.save would add ".npy" to the name
        np.save(f, np.zeros((2, 3)))
    return path


def _pickled_npz(path: Path) -> Path:
    np.savez(path, X_train=np.array([{"evil": 1}], dtype=object), Y_train=np.zeros((1, 1)),
             X_test=np.zeros((2, 1)), Y_test=np.zeros((1, 1)))
    return path


def _mat_case(name: str, **arrays):
    return lambda tmp: ["dataset=mat", f"dataset.path={_mat(tmp / name, **arrays)}"]


# case -> (overrides built in a temp dir, text the one error line must contain)
CASES = {
    "unknown init": (lambda tmp: ["init=foo"], "init"),
    "keep_prob 0": (lambda tmp: ["keep_prob=0"], "keep_prob"),
    "keep_prob -0.1": (lambda tmp: ["keep_prob=-0.1"], "keep_prob"),
    "keep_prob 1.5": (lambda tmp: ["keep_prob=1.5"], "keep_prob"),
    "lambd -1": (lambda tmp: ["lambd=-1"], "lambd"),
    "learning_rate 0": (lambda tmp: ["learning_rate=0"], "learning_rate"),
    "num_iterations 0": (lambda tmp: ["num_iterations=0"], "num_iterations"),
    "layers []": (lambda tmp: ["layers=[]"], "layers"),
    "layers with a 0-width layer": (lambda tmp: ["layers=[3,0]"], "layers"),
    "unknown rng": (lambda tmp: ["rng=legacy"], "rng"),
    "unknown dataset": (lambda tmp: ["dataset=foo"], "dataset"),
    "dataset.path not given": (lambda tmp: ["dataset=mat"], "dataset.path"),
    "dataset.path missing": (lambda tmp: ["dataset=mat", f"dataset.path={tmp / 'nope.mat'}"], "nope.mat"),
    "corrupt .mat": (
        lambda tmp: ["dataset=mat", f"dataset.path={_write(tmp / 'corrupt.mat', b'MATLAB 5.0 MAT-file, no' * 5)}"],
        "corrupt.mat",
    ),
    "corrupt .npz": (
        lambda tmp: ["dataset=npz", f"dataset.path={_write(tmp / 'corrupt.npz', b'PK' + bytes(2) + b'cut')}"],
        "corrupt.npz is not a valid .npz file",
    ),
    # np.load takes a non-zip file for a pickle (refused as "pickled data") or an .npy
    "garbage .npz": (
        lambda tmp: ["dataset=npz", f"dataset.path={_write(tmp / 'garbage.npz', b'garbage')}"],
        "garbage.npz is not a valid .npz file",
    ),
    ".npy as .npz": (
        lambda tmp: ["dataset=npz", f"dataset.path={_npy(tmp / 'array.npz')}"],
        "array.npz is not a valid .npz file",
    ),
    "pickled .npz": (lambda tmp: ["dataset=npz", f"dataset.path={_pickled_npz(tmp / 'pickled.npz')}"], "pickled.npz"),
    ".mat without the keys": (_mat_case("nokeys.mat", Xval=None, yval=None), "nokeys.mat"),
    "NaN in X": (_mat_case("nan.mat", X=_X_with(np.nan)), "nan.mat"),
    "inf in X": (_mat_case("inf.mat", X=_X_with(np.inf)), "inf.mat"),
    "labels not 0/1": (_mat_case("labels.mat", y=np.full((20, 1), 2.0)), "labels.mat"),
    "mismatched X/y": (_mat_case("lengths.mat", y=np.zeros((19, 1))), "lengths.mat"),
    "unwritable out_dir": (lambda tmp: [f"out_dir={_write(tmp / 'a_file', b'x')}/run"], "out_dir"),
}


def _snapshot() -> set[Path]:
    return {p for d in ("data", "reports") if (ROOT / d).exists() for p in (ROOT / d).rglob("*")}


def _assert_one_line_error(proc, needle: str):
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(lines) == 1, proc.stderr
    assert needle in lines[0], lines[0]


def _no_running_runs(db: Path):
    if not db.exists():
        return
    with sqlite3.connect(db) as conn:
        statuses = [row[0] for row in conn.execute("SELECT status FROM runs")]
    assert "RUNNING" not in statuses, statuses


@pytest.mark.parametrize("module", ["src.train", "src.gradcheck"])
@pytest.mark.parametrize("case", CASES)
def test_catalogue(tmp_path, case, module):
    build, needle = CASES[case]
    overrides = build(tmp_path)
    if module == "src.gradcheck" and case == "unwritable out_dir":
        pytest.skip("src.gradcheck writes no run outputs")
    if module == "src.train" and case != "unwritable out_dir":
        overrides.append(f"out_dir={tmp_path / 'runs' / 'run'}")  # a run directory nobody made yet
    db = tmp_path / "mlflow.db"
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{db}"}
    before = _snapshot()
    proc = subprocess.run(
        [sys.executable, "-m", module, *overrides, "num_iterations=5" if "num_iterations" not in case else "seed=0",
         f"hydra.run.dir={tmp_path / 'hydra'}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    _assert_one_line_error(proc, needle)
    assert _snapshot() == before
    assert not (tmp_path / "runs").exists()  # not even an empty run directory
    _no_running_runs(db)


def test_tracking_server_not_running(tmp_path):
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{_free_port()}"}
    proc = subprocess.run(
        [sys.executable, "-m", "src.train", "num_iterations=5", f"out_dir={tmp_path / 'run'}",
         f"hydra.run.dir={tmp_path / 'hydra'}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    _assert_one_line_error(proc, "127.0.0.1")


@pytest.mark.parametrize("launcher", ["joblib_fork", "basic"])
def test_a_sweep_against_a_tracking_server_not_running_starts_no_job(tmp_path, launcher):
    """Hydra turns a callback's error into a warning and launches the jobs anyway: the
    sweep's callback stops it instead, with the one line and before any job."""
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{_free_port()}"}
    proc = subprocess.run(
        [sys.executable, "-m", "src.train", "-m", "num_iterations=5", "lambd=0,0.7", f"hydra/launcher={launcher}",
         f"out_dir={tmp_path / 'runs'}/${{lambd}}", f"hydra.sweep.dir={tmp_path / 'sweep'}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    _assert_one_line_error(proc, "127.0.0.1")
    assert "Launching" not in proc.stdout + proc.stderr and not (tmp_path / "runs").exists()
