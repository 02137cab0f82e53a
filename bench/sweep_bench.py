"""Wall time of one 16-job sweep: serial (Hydra's basic launcher) vs joblib on all
cores, with forked workers (joblib_fork, the default) and with Hydra's own loky
workers (joblib).

Run by hand: ``python -m bench.sweep_bench [--iterations N] [--repeat R]``. Every
sweep is the same 16 configurations (4 lambd x 4 keep_prob on football) through
the real CLI, MLflow on, each into its own temporary store; the launchers take
turns, R rounds, and the best of each is kept.
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


LAUNCHERS = ("basic", "joblib_fork", "joblib")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=30000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    seconds = {launcher: [] for launcher in LAUNCHERS}
    for round_ in range(args.repeat):
        for launcher in LAUNCHERS:
            with tempfile.TemporaryDirectory() as tmp:
                seconds[launcher].append(sweep(launcher, args.iterations, Path(tmp)))
    best = {launcher: min(times) for launcher, times in seconds.items()}
    print(f"16 jobs x {args.iterations} iterations on {os.cpu_count()} cores, best of {args.repeat}:")
    print("| launcher | seconds (all rounds) | speed-up vs serial |\n|---|---|---|")
    for launcher, times in seconds.items():
        print(f"| {launcher} | {best[launcher]:.1f} ({', '.join(f'{t:.1f}' for t in times)}) | "
              f"{best['basic'] / best[launcher]:.2f}x |")


if __name__ == "__main__":
    main()
