"""Wall time of the DVC pipeline: `dvc repro` from scratch, then the no-op repro.

Run by hand: ``python bench/pipeline_bench.py [--no-tracking] [--noop-runs 5]``.
The project as git would commit it (tracked plus untracked-but-not-ignored
files, no dvc.lock, no data/models/reports) is copied into a temporary git
repository, as after a fresh clone; runs are tracked into a temporary MLflow
store there. Prints the full repro, the best and worst no-op repro, and `dvc
status`, all in this one command, beside the reference: the no-op repro of a
one-stage DVC project made in the same temporary directory (DVC's own floor:
its start-up, the index and the lock, on this machine at this moment; wall
times here move by up to ~50 % with the machine's load, their ratio much less).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def project_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                         capture_output=True, check=True)
    return [f for f in out.stdout.decode().split("\0") if f and (ROOT / f).is_file() and f != "dvc.lock"]


def timed(args: list[str], cwd: Path, env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(args, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def one_stage_noop(root: Path, env: dict, dvc: list[str], runs: int) -> list[float]:
    """No-op repro times of a minimal DVC project: one stage copying one file."""
    root.mkdir()
    (root / "in.txt").write_text("x\n")
    (root / "dvc.yaml").write_text("stages:\n  copy:\n    cmd: cp in.txt out.txt\n    deps: [in.txt]\n    outs: [out.txt]\n")
    for cmd in (["git", "init", "-q"], [*dvc, "init", "-q"], [*dvc, "repro", "-q"]):
        subprocess.run(cmd, cwd=root, env=env, check=True, capture_output=True)
    return [timed([*dvc, "repro"], root, env) for _ in range(runs)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-tracking", action="store_true", help="train.tracking=false (no MLflow)")
    parser.add_argument("--noop-runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "project"
        for name in project_files():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, root / name)
        if args.no_tracking:
            params = yaml.safe_load((root / "params.yaml").read_text())
            params["train"]["tracking"] = False
            (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
               "MLFLOW_TRACKING_URI": f"sqlite:///{Path(tmp) / 'mlflow.db'}", "MLFLOW_DISABLE_TELEMETRY": "true",
               "DO_NOT_TRACK": "1", "DVC_NO_ANALYTICS": "1", "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@localhost",
               "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "b@localhost"}
        for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-q", "-m", "copy"]):
            subprocess.run(cmd, cwd=root, env=env, check=True)
        dvc = [sys.executable, "-m", "dvc"]
        stages = len(subprocess.run([*dvc, "stage", "list", "--name-only"], cwd=root, env=env, capture_output=True,
                                    text=True, check=True).stdout.split())
        full = timed([*dvc, "repro"], root, env)
        noop = [timed([*dvc, "repro"], root, env) for _ in range(args.noop_runs)]
        status = [timed([*dvc, "status"], root, env) for _ in range(args.noop_runs)]
        floor = one_stage_noop(Path(tmp) / "one-stage", env, dvc, args.noop_runs)
    print(f"# {os.cpu_count()} cores, {stages} stages, MLflow {'off' if args.no_tracking else 'on'}")
    print("| what | seconds |")
    print("| --- | --- |")
    print(f"| dvc repro from scratch | {full:.1f} |")
    print(f"| no-op dvc repro (best / worst of {len(noop)}) | {min(noop):.2f} / {max(noop):.2f} |")
    print(f"| dvc status (best / worst of {len(status)}) | {min(status):.2f} / {max(status):.2f} |")
    print(f"| reference: no-op dvc repro of a one-stage project (best / worst) | {min(floor):.2f} / {max(floor):.2f} |")
    print(f"\nno-op repro / one-stage floor: {min(noop) / min(floor):.2f}x (best vs best)")


if __name__ == "__main__":
    main()
