"""Start-up latency: each command's wall time beside its floor, all measured in one run.

Run by hand: ``python -m bench.latency_bench [--repeat 5] [--no-pipeline]``.

The floor of a command is what it cannot avoid: Python and numpy starting
(``python -c "import numpy"``), plus its compute done in this warm process (the
same run's training, its files and figures, its gradient check). For the sweep,
the 16 runs' compute shared by the machine's cores; for a fresh ``dvc repro``,
its runs' own training seconds (their ``train_seconds`` in MLflow) shared by the cores; for the
no-op ``dvc repro``, DVC's own floor (the no-op repro of a one-stage project,
bench/pipeline_bench.py). Every command runs in a temporary directory with its own
MLflow store (SQLite, made before timing). Wall times are medians; they move by
~10 % with the machine's load, so compare the two columns of one run.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.pipeline_bench import one_stage_noop, project_files

ROOT = Path(__file__).resolve().parents[1]
SWEEP = ["lambd=0,0.1,0.3,0.7", "keep_prob=1,0.95,0.9,0.86"]  # 16 jobs of the default run

# What the two libraries every run goes through cost by themselves, in a fresh process
# (exiting at once, without Python's final clean-up): no run of ours can start under them.
HYDRA_ALONE = """
import hydra

@hydra.main(config_path=None, version_base="1.3")
def main(cfg):
    pass

main()
"""
MLFLOW_ALONE = """
import os
import mlflow

client = mlflow.MlflowClient()  # MLFLOW_TRACKING_URI: the bench's SQLite store
run = client.create_run(client.get_experiment_by_name("Default").experiment_id)
client.log_param(run.info.run_id, "lambd", 0.7)
client.log_metric(run.info.run_id, "train_accuracy", 0.9)
client.set_terminated(run.info.run_id)
os._exit(0)
"""


def wall(args: list[str], cwd: Path, env: dict, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode:
            sys.exit(f"{' '.join(map(str, args))} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return statistics.median(times)


def in_process(fn, repeat: int) -> float:
    """Median seconds of ``fn()`` after one warm-up call (imports, caches, fonts)."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_compute(out_dir: Path, overrides=(), tracked: bool = False):
    """One run's work without its process: train, write the run directory (and, as a
    tracked run does, its at-init gradient check)."""
    from src import artifacts, recipe
    from src.config import run_config
    from src.train import GRADCHECK_EXAMPLES

    config = run_config([*overrides, f"out_dir={out_dir}"])

    def work():
        result = recipe.train(config)
        artifacts.write(result, config, out_dir)
        if tracked:
            check = recipe.gradient_check(config, result.initial_params, result.dataset.train, GRADCHECK_EXAMPLES)
            artifacts.write_gradcheck(check, out_dir)

    return work


def gradcheck_compute():
    from src import gradcheck
    from src.config import run_config

    config, options = run_config(), gradcheck.Options()
    return lambda: gradcheck.gradcheck(config, options)


def sweep_overrides() -> list[list[str]]:
    keys = [(s.split("=")[0], s.split("=")[1].split(",")) for s in SWEEP]
    return [[f"{keys[0][0]}={a}", f"{keys[1][0]}={b}"] for a in keys[0][1] for b in keys[1][1]]


def training_seconds(uri: str) -> float:
    """The training seconds of every run in the store (their ``train_seconds`` metric)."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    experiments = [e.experiment_id for e in client.search_experiments()]
    return sum(r.data.metrics.get("train_seconds", 0.0) for r in client.search_runs(experiments, max_results=5000))


def pipeline(tmp: Path, env: dict, repeat: int) -> dict:
    root = tmp / "project"
    for name in project_files():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, root / name)
    git = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@localhost", "GIT_COMMITTER_NAME": "bench",
           "GIT_COMMITTER_EMAIL": "b@localhost"}
    env = {**env, **git, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp / 'pipeline.db'}"}
    env.pop("PYTHONPATH")  # the copy's own code
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-q", "-m", "copy"]):
        subprocess.run(cmd, cwd=root, env=env, check=True)
    dvc = [sys.executable, "-m", "dvc"]
    fresh = wall([*dvc, "repro"], root, env, 1)
    noop = wall([*dvc, "repro"], root, env, repeat)
    trained = training_seconds(env["MLFLOW_TRACKING_URI"])
    stages = len(subprocess.run([*dvc, "stage", "list", "--name-only"], cwd=root, env=env, capture_output=True, text=True,
                                check=True).stdout.split())
    noop_floor = statistics.median(one_stage_noop(tmp / "one-stage", env, dvc, repeat))
    return {"fresh": fresh, "trained": trained, "noop": noop, "noop_floor": noop_floor, "stages": stages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-pipeline", action="store_true", help="skip the fresh and no-op dvc repro (~3 min)")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        uri = f"sqlite:///{tmp / 'mlflow.db'}"
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
               "PYTHONPATH": str(ROOT), "MLFLOW_TRACKING_URI": uri, "MLFLOW_DISABLE_TELEMETRY": "true",
               "DO_NOT_TRACK": "1", "DVC_NO_ANALYTICS": "1"}
        # Python as users run it, writing its bytecode caches: with PYTHONDONTWRITEBYTECODE
        # (set on some machines, this one included) every process compiles again each module
        # whose cache is missing or stale: in the fresh copy, all of src/ a stage (~0.03 s).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        python = [sys.executable]
        subprocess.run([*python, "-c", f"from mlflow.tracking import MlflowClient; MlflowClient({uri!r}).search_experiments()"],
                       env=env, check=True, capture_output=True)  # the store exists before any timing
        startup = wall([*python, "-c", "import numpy"], tmp, env, args.repeat)
        hydra_dirs = [f"hydra.run.dir={tmp / 'hydra'}", f"hydra.sweep.dir={tmp / 'multirun'}"]
        train = [*python, "-m", "src.train", f"out_dir={tmp / 'out'}", *hydra_dirs]
        # Every wall time first: the floors' in-process work would leave this process's
        # BLAS threads spinning beside the commands timed after it.
        walls = {
            "tracked": wall(train, tmp, env, args.repeat),
            "untracked": wall([*train, "tracking=false"], tmp, env, args.repeat),
            "gradcheck": wall([*python, "-m", "src.gradcheck", *hydra_dirs], tmp, env, args.repeat),
            "sweep": wall([*python, "-m", "src.train", "-m", *SWEEP, *hydra_dirs], tmp, env, 1),
        }
        (tmp / "hydra_alone.py").write_text(HYDRA_ALONE)
        (tmp / "mlflow_alone.py").write_text(MLFLOW_ALONE)
        alone = {
            "a Hydra app that does nothing (`@hydra.main`, no config)":
                wall([*python, "hydra_alone.py", f"hydra.run.dir={tmp / 'hydra'}"], tmp, env, args.repeat),
            "MLflow alone: import, open the SQLite store, a run with a param and a metric":
                wall([*python, "mlflow_alone.py"], tmp, env, args.repeat),
        }
        repro = None if args.no_pipeline else pipeline(tmp, env, args.repeat)
        sweep_compute = sum(in_process(run_compute(tmp / "warm", overrides, tracked=True), 1) for overrides in sweep_overrides())
        rows = [
            ("`python -m src.train` (tracked)", walls["tracked"],
             startup + in_process(run_compute(tmp / "warm", tracked=True), args.repeat)),
            ("`python -m src.train tracking=false`", walls["untracked"],
             startup + in_process(run_compute(tmp / "warm"), args.repeat)),
            ("`python -m src.gradcheck`", walls["gradcheck"], startup + in_process(gradcheck_compute(), args.repeat)),
            (f"`python -m src.train -m {' '.join(SWEEP)}` (16 tracked jobs, joblib_fork)", walls["sweep"],
             startup + sweep_compute / cores),
        ]
        if repro is not None:
            rows.append((f"`dvc repro`, fresh copy ({repro['stages']} stages; floor: its runs' training / {cores} cores)",
                         repro["fresh"], repro["trained"] / cores))
            rows.append(("`dvc repro`, no-op (floor: a one-stage project's no-op)", repro["noop"], repro["noop_floor"]))
    print(f"# {cores} cores; medians of {args.repeat} (one for the sweep and the fresh repro); "
          f"Python + numpy start-up {startup:.2f} s")
    print("| command | wall s | floor s | wall / floor |")
    print("| --- | --- | --- | --- |")
    for name, seconds, floor in rows:
        print(f"| {name} | {seconds:.2f} | {floor:.2f} | {seconds / floor:.1f}x |")
    print()
    print("| the libraries alone, a fresh process each | wall s |")
    print("| --- | --- |")
    for name, seconds in alone.items():
        print(f"| {name} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
