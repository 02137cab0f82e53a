"""The default sweep launcher (src/launcher.py): Hydra's joblib launcher with
workers forked from the launching process, so they start with its imports."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from hydra_plugins.hydra_joblib_launcher.joblib_launcher import JoblibLauncher

from src import launcher
from src.tracking import store

ROOT = Path(__file__).resolve().parents[1]

# A Hydra app that marks its process at import (an attribute on the json module,
# which a fresh interpreter would not have), then reports, per job, its pid and
# whether the mark is there: only a forked worker inherits it.
APP = textwrap.dedent("""
    import json, os, sys
    from pathlib import Path
    import hydra

    json.launched_from = os.getpid()

    # Count Hydra's config compositions per process.
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    json.compositions, _load = {}, ConfigLoaderImpl.load_configuration
    def counted(self, *args, **kwargs):
        json.compositions[os.getpid()] = json.compositions.get(os.getpid(), 0) + 1
        return _load(self, *args, **kwargs)
    ConfigLoaderImpl.load_configuration = counted

    @hydra.main(config_path=None, config_name=None, version_base="1.3")
    def main(cfg):
        record = {"pid": os.getpid(), "mark": getattr(json, "launched_from", None),
                  "composed_here": getattr(json, "compositions", {}).get(os.getpid())}
        Path(os.environ["JOB_RECORDS"], f"{cfg.x}.json").write_text(json.dumps(record))
        return cfg.x * 10

    if __name__ == "__main__":
        main()
""")


def run_app(tmp_path: Path, launcher_name: str) -> tuple[int, list[dict]]:
    (tmp_path / "app.py").write_text(APP)
    records = tmp_path / f"records-{launcher_name}"
    records.mkdir()
    command = [sys.executable, "app.py", "-m", "+x=1,2,3,4", f"hydra/launcher={launcher_name}",
               f"hydra.searchpath=[file://{ROOT / 'conf'}]", f"hydra.sweep.dir={tmp_path / launcher_name}"]
    env = {**os.environ, "JOB_RECORDS": str(records), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, out[-2000:] + err[-2000:]
    return proc.pid, [json.loads((records / f"{x}.json").read_text()) for x in (1, 2, 3, 4)]


@pytest.mark.skipif(not launcher.can_fork(), reason="fork start method only on Linux")
def test_jobs_run_in_workers_forked_from_the_launching_process(tmp_path):
    cli_pid, jobs = run_app(tmp_path, "joblib_fork")
    assert all(job["mark"] == cli_pid for job in jobs)      # the launcher's process state, inherited
    assert all(job["pid"] != cli_pid for job in jobs)       # but run in worker processes
    assert len({job["pid"] for job in jobs}) == 2           # one per core, reused across jobs


@pytest.mark.skipif(not launcher.can_fork(), reason="fork start method only on Linux")
def test_each_jobs_config_is_composed_once_by_the_sweepers_check(tmp_path):
    """Hydra's sweeper composes every job's config before launching; the forked workers
    take those (each its own x: the records are per x) instead of composing again."""
    _, jobs = run_app(tmp_path, "joblib_fork")
    assert [job["composed_here"] for job in jobs] == [None] * 4  # no composition in a worker


def test_the_kept_configs_are_copies_and_bounded():
    class Loader:
        calls = 0

        def load_sweep_config(self, master_config, sweep_overrides):
            Loader.calls += 1
            return {"overrides": list(sweep_overrides)}

    loader = launcher._ComposedOnce(Loader())
    master = object()
    first = loader.load_sweep_config(master, ["x=1"])
    first["overrides"].append("changed by the job")
    assert loader.load_sweep_config(master, ["x=1"]) == {"overrides": ["x=1"]} and Loader.calls == 1
    for x in range(launcher._ComposedOnce.KEEP + 5):
        loader.load_sweep_config(master, [f"y={x}"])
    assert len(loader._composed) == launcher._ComposedOnce.KEEP
    loader.forget()
    loader.load_sweep_config(master, ["x=1"])
    assert Loader.calls == 1 + launcher._ComposedOnce.KEEP + 5 + 1


def test_hydras_own_joblib_launcher_starts_fresh_workers(tmp_path):
    """The control: the same app under hydra/launcher=joblib (loky) sees no mark."""
    cli_pid, jobs = run_app(tmp_path, "joblib")
    assert all(job["mark"] is None and job["pid"] != cli_pid for job in jobs)


def test_without_fork_it_is_hydras_joblib_launcher(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")  # fork exists there but is unsafe
    assert not launcher.can_fork()
    monkeypatch.setattr(JoblibLauncher, "launch", lambda self, overrides, idx: ["loky", overrides, idx])
    assert launcher.ForkingJoblibLauncher().launch([["x=1"]], 3) == ["loky", [["x=1"]], 3]


def test_the_sqlite_store_keeps_no_connection_to_fork_with(tmp_path, monkeypatch):
    """Forked workers share nothing of the parent's store: SQLite connections
    must not cross a fork, so the store opens one per session and keeps none."""
    monkeypatch.setenv("MLFLOW_SQLALCHEMYSTORE_POOLCLASS", "")  # so the test's end restores the user's value
    monkeypatch.delenv("MLFLOW_SQLALCHEMYSTORE_POOLCLASS")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    client, _ = store.open_store()
    assert os.environ["MLFLOW_SQLALCHEMYSTORE_POOLCLASS"] == "NullPool"
    engine = client._tracking_client.store.engine  # no public accessor
    assert type(engine.pool).__name__ == "NullPool"


SWEEP_RECORDING_THREADS = textwrap.dedent("""
    import sys, threading
    from src import launcher, train

    launch = launcher.ForkingJoblibLauncher.launch

    def recording_launch(self, *args, **kwargs):
        print("threads at fork:", ",".join(t.name for t in threading.enumerate()), file=sys.stderr)
        print("mlflow at fork:", "mlflow" in sys.modules, file=sys.stderr)
        return launch(self, *args, **kwargs)

    launcher.ForkingJoblibLauncher.launch = recording_launch
    sys.argv = ["src.train", *sys.argv[1:]]
    train.cli()
""")


@pytest.mark.skipif(not launcher.can_fork(), reason="fork start method only on Linux")
def test_a_tracked_sweep_forks_from_a_single_threaded_process(tmp_path):
    """Fork copies only the calling thread: a thread of MLflow's holding a lock at
    that moment would leave the workers stuck. The parent, MLflow store open and
    parent run made, must have no other thread when the pool forks."""
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", SWEEP_RECORDING_THREADS, "-m", "num_iterations=10", "lambd=0,0.7",
                           f"hydra.sweep.dir={tmp_path / 'sweep'}"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "threads at fork: MainThread\n" in proc.stderr


@pytest.mark.skipif(not launcher.can_fork(), reason="fork start method only on Linux")
def test_a_tracked_sweep_leaves_mlflow_to_its_tracking_helper(tmp_path):
    """The launcher never imports MLflow (src/tracking/sweep_helper.py): the sweep's helper
    makes the parent and every job's run, children of it, complete."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", SWEEP_RECORDING_THREADS, "-m", "num_iterations=10", "lambd=0,0.7",
                           f"hydra.sweep.dir={tmp_path / 'sweep'}", f"out_dir={tmp_path}/runs/${{lambd}}"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "mlflow at fork: False\n" in proc.stderr
    client = MlflowClient(uri)
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    [parent] = [r for r in runs if r.data.tags.get("sweep_parent") == "true"]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert [r.info.status for r in runs] == ["FINISHED"] * 3 and len(children) == 2
    assert {r.data.params["lambd"] for r in children} == {"0", "0.7"}
    assert all("train_accuracy" in r.data.metrics for r in children)
