"""Wall time of one 16-job sweep: serial (Hydra's basic launcher) vs joblib on all
cores, with forked workers (joblib_fork, the default) and with Hydra's own loky
workers (joblib).

Run by hand: ``python -m bench.sweep_bench [--iterations N] [--repeat R] [--grid dropout|rates]``.
Every sweep is the same 16 configurations (``GRIDS``) through the real CLI, MLflow
on, each into its own temporary store; the launchers take turns, R rounds, and the
best of each is kept.
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
LAUNCHERS = ("basic", "joblib_fork", "joblib")  # serial, forked workers (the default), Hydra's loky workers
# 4 x 4 grids on football, [20,3]. dropout: 4 lambd x 4 keep_prob, where the 12 dropout
# jobs take ~3x as long as the 4 without (fresh masks every iteration), so the last long
# job often runs alone; rates: 4 lambd x 4 learning rates, jobs of equal length.
GRIDS = {
    "dropout": ["learning_rate=0.3", "lambd=0,0.1,0.7,2", "keep_prob=1,0.95,0.86,0.7"],
    "rates": ["lambd=0,0.1,0.7,2", "learning_rate=0.03,0.1,0.3,0.6"],
}


def sweep(launcher: str, grid: str, iterations: int, workdir: Path) -> float:
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{workdir / launcher / 'mlflow.db'}",
           "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "src.train", "-m", f"hydra/launcher={launcher}", "dataset=football",
         "layers=[20,3]", f"num_iterations={iterations}", *GRIDS[grid], f"hydra.sweep.dir={workdir / launcher / 'sweep'}"],
        cwd=ROOT, env=env, check=True, capture_output=True,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=30000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--grid", choices=GRIDS, default="dropout")
    args = parser.parse_args()
    seconds = {launcher: [] for launcher in LAUNCHERS}
    for _ in range(args.repeat):
        for launcher in LAUNCHERS:
            with tempfile.TemporaryDirectory() as tmp:
                seconds[launcher].append(sweep(launcher, args.grid, args.iterations, Path(tmp)))
    best = {launcher: min(times) for launcher, times in seconds.items()}
    print(f"16 jobs ({args.grid} grid) x {args.iterations} iterations on {os.cpu_count()} cores, best of {args.repeat}:")
    print("| launcher | seconds (all rounds) | speed-up vs serial |\n|---|---|---|")
    for launcher, times in seconds.items():
        print(f"| {launcher} | {best[launcher]:.1f} ({', '.join(f'{t:.1f}' for t in times)}) | "
              f"{best['basic'] / best[launcher]:.2f}x |")


if __name__ == "__main__":
    main()
