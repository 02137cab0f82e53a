"""Real multirun sweeps: one parent run, one FINISHED child run per job.

Every sweep runs from tmp_path with its outputs and its MLflow store there, so
nothing lands in the repository.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from tests.mlflow_server import api
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[1]
GRID = ["lambd=0,0.7", "keep_prob=1,0.86"]
ITERATIONS = 300
COST_STEPS = [0, 100, 200, 299]  # every cost_every=100 and the last

pytestmark = pytest.mark.slow


def run_sweep(tmp_path: Path, tracking_uri: str, *overrides: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri, "MLFLOW_EXPERIMENT_NAME": "sweep", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "src.train", "-m", f"num_iterations={ITERATIONS}", f"hydra.sweep.dir={tmp_path / 'multirun'}", *overrides]
    proc = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def check_sweep(runs: list[dict], history) -> None:
    """The GRID sweep: runs are {"id", "status", "params", "metrics", "tags"} dicts."""
    parents = [r for r in runs if r["tags"].get("sweep_parent") == "true"]
    assert len(parents) == 1
    parent = parents[0]
    assert parent["status"] == "FINISHED"
    children = [r for r in runs if r["tags"].get("mlflow.parentRunId") == parent["id"]]
    assert len(children) == 4 == len(runs) - 1
    assert {r["status"] for r in children} == {"FINISHED"}
    assert sorted(int(r["tags"]["hydra_job_num"]) for r in children) == [0, 1, 2, 3]
    assert len({r["tags"]["sweep_id"] for r in runs}) == 1
    for child in children:
        assert child["params"]["num_iterations"] == str(ITERATIONS)
        assert child["params"]["dataset"] == "circles"
        for name in ("train_accuracy", "test_accuracy"):
            assert 0 <= child["metrics"][name] <= 1
        assert [step for step, _ in history(child["id"])] == COST_STEPS
    grid = sorted((r["params"]["lambd"], r["params"]["keep_prob"]) for r in children)
    assert grid == sorted((lambd, keep_prob) for lambd in ("0", "0.7") for keep_prob in ("1", "0.86"))
    # names: the dataset, the init and the job's values of the swept keys, unique in the sweep
    names = sorted(r["name"] for r in children)
    assert names == sorted(f"circles he lambd={lambd} keep_prob={kp}" for lambd in ("0", "0.7") for kp in ("1", "0.86"))
    assert parent["name"] == f"sweep circles: num_iterations={ITERATIONS} lambd=0,0.7 keep_prob=1,0.86"


def client_runs(uri: str) -> tuple[MlflowClient, list[dict]]:
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("sweep")
    found = client.search_runs([experiment.experiment_id], max_results=1000)
    return client, [
        {"id": r.info.run_id, "name": r.info.run_name, "status": r.info.status, "params": r.data.params,
         "metrics": r.data.metrics, "tags": r.data.tags}
        for r in found
    ]


def test_sweep_into_sqlite(tmp_path):
    uri = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    proc = run_sweep(tmp_path, uri, *GRID)
    client, runs = client_runs(uri)
    check_sweep(runs, lambda run_id: [(m.step, m.value) for m in client.get_metric_history(run_id, "cost")])
    # Each job's result line, whole, says which run it is (jobs end in any order).
    lines = [line for line in proc.stdout.splitlines() if "accuracy" in line]
    children = [r for r in runs if "mlflow.parentRunId" in r["tags"]]
    assert sorted(line.split(": train accuracy")[0] for line in lines) == sorted(r["name"] for r in children)
    assert all(line.count("accuracy") == 2 for line in lines)  # train and test, one job's
    assert (tmp_path / "multirun" / "3" / "params.npz").is_file()
    child = next(r for r in runs if "mlflow.parentRunId" in r["tags"])
    assert {"config.yaml", "params.npz", "cost.png", "boundary.png"} <= {a.path for a in client.list_artifacts(child["id"])}


def test_a_job_interpolation_on_the_command_line_keeps_the_parent(tmp_path):
    """`out_dir=.../${seed}` (as the pipeline's stages write it) is the jobs' to resolve:
    the launching process makes the parent run with the override as typed."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    run_sweep(tmp_path, uri, "seed=1,2", f"out_dir={tmp_path}/runs/seed-${{seed}}", "num_iterations=50")
    _, runs = client_runs(uri)
    [parent] = [r for r in runs if r["tags"].get("sweep_parent") == "true"]
    assert "seed-${seed}" in parent["tags"]["sweep_overrides"]
    children = [r for r in runs if r["tags"].get("mlflow.parentRunId") == parent["id"]]
    assert sorted(r["name"] for r in children) == ["circles he seed=1", "circles he seed=2"]
    assert (tmp_path / "runs" / "seed-2" / "metrics.json").is_file()


def test_sixteen_parallel_jobs_on_a_fresh_store(tmp_path):
    db = tmp_path / "fresh" / "mlflow.db"
    # 16 jobs at once, all opening a store that does not exist yet.
    run_sweep(tmp_path, f"sqlite:///{db}", "seed=range(16)", "hydra.launcher.n_jobs=16", "num_iterations=100", timeout=900)
    client, runs = client_runs(f"sqlite:///{db}")
    children = [r for r in runs if "mlflow.parentRunId" in r["tags"]]
    assert len(children) == 16 and {r["status"] for r in children} == {"FINISHED"}
    assert sorted(int(r["params"]["seed"]) for r in children) == list(range(16))
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_a_failed_job_fails_its_run_and_the_parent(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "MLFLOW_EXPERIMENT_NAME": "sweep", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "src.train", "-m", "num_iterations=100", "lambd=0,-1", f"hydra.sweep.dir={tmp_path / 'multirun'}"]
    proc = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1
    assert "lambd: must be >= 0, got -1" in proc.stderr
    _, runs = client_runs(uri)
    by_lambd = {r["params"].get("lambd"): r for r in runs}
    assert by_lambd["0"]["status"] == "FINISHED"  # the good job still ran to the end
    assert by_lambd["-1"]["status"] == "FAILED"
    assert by_lambd["-1"]["tags"]["error"] == "InputError: lambd: must be >= 0, got -1"
    assert by_lambd[None]["status"] == "FAILED"  # the parent


@pytest.mark.parametrize("launcher", ["joblib_fork", "joblib"])
def test_ctrl_c_leaves_no_run_running(tmp_path, launcher):
    """Ctrl-C reaches the whole process group; the launcher stops its workers
    before they can end their runs, so the parent ends them KILLED on its way out,
    and says "interrupted" (no traceback), exit status 130."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "MLFLOW_EXPERIMENT_NAME": "sweep", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "src.train", "-m", f"hydra/launcher={launcher}", "num_iterations=5000000",
               "lambd=0,0.7", f"hydra.sweep.dir={tmp_path / 'multirun'}"]
    MlflowClient(uri).search_experiments()  # the store made here, so polling it below cannot race its creation
    proc = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        wait_for(lambda: sum(r["status"] == "RUNNING" and "mlflow.parentRunId" in r["tags"] for r in client_runs(uri)[1]) == 2,
                 "both jobs training, their runs open", process=proc)
        os.killpg(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130  # 128 + SIGINT
    assert stderr.strip().splitlines()[-1] == "interrupted" and "Traceback" not in stderr
    _, runs = client_runs(uri)
    statuses = sorted((r["tags"].get("sweep_parent", "child"), r["status"]) for r in runs)
    assert statuses == [("child", "KILLED"), ("child", "KILLED"), ("true", "FAILED")]


# --- against a real tracking server (tests/mlflow_server.py) ---------------------

def test_sweep_against_a_tracking_server(tmp_path, mlflow_server):
    run_sweep(tmp_path, mlflow_server, *GRID)
    experiment = api(mlflow_server, "/api/2.0/mlflow/experiments/get-by-name?experiment_name=sweep")["experiment"]
    found = api(mlflow_server, "/api/2.0/mlflow/runs/search", {"experiment_ids": [experiment["experiment_id"]], "max_results": 100})["runs"]
    runs = [
        {
            "id": r["info"]["run_id"],
            "name": r["info"]["run_name"],
            "status": r["info"]["status"],
            "params": {p["key"]: p["value"] for p in r["data"].get("params", [])},
            "metrics": {m["key"]: m["value"] for m in r["data"].get("metrics", [])},
            "tags": {t["key"]: t["value"] for t in r["data"].get("tags", [])},
        }
        for r in found
    ]

    def history(run_id):
        points = api(mlflow_server, f"/api/2.0/mlflow/metrics/get-history?run_id={run_id}&metric_key=cost")["metrics"]
        return sorted((int(m["step"]), m["value"]) for m in points)

    check_sweep(runs, history)
    child = next(r for r in runs if "mlflow.parentRunId" in r["tags"])
    listed = api(mlflow_server, f"/api/2.0/mlflow/artifacts/list?run_id={child['id']}")
    assert {"config.yaml", "params.npz", "cost.png"} <= {f["path"] for f in listed.get("files", [])}


# --- Ray ---------------------------------------------------------------------

def loopback_only_namespace() -> list[str] | None:
    """A command prefix that runs in a new network namespace with only loopback up."""
    if not shutil.which("unshare") or not shutil.which("ip"):
        return None
    for prefix in (["unshare", "--net"], ["unshare", "--net", "--map-root-user"]):
        probe = subprocess.run([*prefix, "sh", "-c", "ip link set lo up"], capture_output=True, timeout=30)
        if probe.returncode == 0:
            return [*prefix, "sh", "-c", 'ip link set lo up && exec "$@"', "sh"]
    return None


def test_sweep_on_a_local_ray_cluster(tmp_path):
    pytest.importorskip("ray", reason="ray is not installed (pip install -e '.[ray]')")
    pytest.importorskip("hydra_plugins.hydra_ray_launcher", reason="hydra-ray-launcher is not installed (pip install -e '.[ray]')")
    namespace = loopback_only_namespace()
    if namespace is None:
        pytest.skip("unshare --net is unavailable: Ray's start-up probes the network, so it only runs in a loopback-only namespace")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    env = {
        **os.environ, "MLFLOW_TRACKING_URI": uri, "MLFLOW_EXPERIMENT_NAME": "sweep", "PYTHONPATH": str(ROOT),
        "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0",
    }
    command = [
        sys.executable, "-m", "src.train", "-m", "hydra/launcher=ray_local", f"num_iterations={ITERATIONS}",
        f"hydra.sweep.dir={tmp_path / 'multirun'}", *GRID,
    ]
    proc = subprocess.run([*namespace, *command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    client, runs = client_runs(uri)
    check_sweep(runs, lambda run_id: [(m.step, m.value) for m in client.get_metric_history(run_id, "cost")])
