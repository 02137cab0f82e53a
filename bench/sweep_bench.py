"""Wall time of one 16-job sweep, serial (Hydra's basic launcher) vs joblib.

Run by hand: ``python bench/sweep_bench.py [--iterations N]``. Both sweeps are
the same 16 configurations (4 lambd x 4 keep_prob on football) through the real
CLI, each into its own temporary MLflow store, one after the other.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def sweep(launcher: str, iterations: int, workdir: Path) -> float:
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{workdir / launcher / 'mlflow.db'}",
           "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "src.train", "-m", f"hydra/launcher={launcher}", "dataset=football",
         "layers=[20,3]", "learning_rate=0.3", f"num_iterations={iterations}", "lambd=0,0.1,0.7,2",
         "keep_prob=1,0.95,0.86,0.7", f"hydra.sweep.dir={workdir / launcher / 'sweep'}"],
        cwd=ROOT, env=env, check=True, capture_output=True,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=30000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        serial = sweep("basic", args.iterations, Path(tmp))
        parallel = sweep("joblib", args.iterations, Path(tmp))
    print(f"16 jobs x {args.iterations} iterations on {os.cpu_count()} cores: serial {serial:.1f} s, "
          f"joblib {parallel:.1f} s, speed-up {serial / parallel:.2f}x")


if __name__ == "__main__":
    main()
