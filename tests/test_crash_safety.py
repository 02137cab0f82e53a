"""Hard kills and a lost tracking server, through the real CLIs: no run is left RUNNING
for ever, no worker outlives its launcher, no training result is lost.

Each case kills for real (``kill -9``, a server killed mid-run) and waits a bounded time."""
from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from tests.mlflow_server import free_port, serve
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[1]
LONG = "num_iterations=50000000"  # minutes of training: only a kill ends it

pytestmark = pytest.mark.slow


def environment(uri: str) -> dict:
    return {**os.environ, "MLFLOW_TRACKING_URI": uri, "MLFLOW_EXPERIMENT_NAME": "crash", "PYTHONPATH": str(ROOT)}


def start(tmp_path: Path, uri: str, *overrides: str) -> subprocess.Popen:
    MlflowClient(uri).search_experiments()  # the store made here, so polling it cannot race its creation
    command = [sys.executable, "-m", "src.train", *overrides, f"hydra.run.dir={tmp_path / 'run'}",
               f"hydra.sweep.dir={tmp_path / 'multirun'}"]
    return subprocess.Popen(command, cwd=tmp_path, env=environment(uri), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def runs(uri: str) -> list:
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("crash")
    return [] if experiment is None else client.search_runs([experiment.experiment_id], max_results=100)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError):  # a zombie (exited, not yet reaped by its parent) is gone for us
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def test_a_killed_job_has_its_run_ended_by_its_tracking_helper(tmp_path):
    """kill -9 of the job alone (what the OOM killer does): the helper that tracks it
    (src/tracking/background.py) sees it go and ends the run KILLED at once."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    proc = start(tmp_path, uri, LONG, f"out_dir={tmp_path / 'long'}")
    try:
        [victim] = wait_for(lambda: [r for r in runs(uri) if r.info.status == "RUNNING"], "the run started")
        assert victim.data.tags["pid"] == str(proc.pid)  # the job's process, not its helper's
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        ended = wait_for(lambda: [r for r in runs(uri) if r.info.status == "KILLED"], "the run ended", timeout=10)
    finally:
        kill_group(proc)
    assert [r.info.run_id for r in ended] == [victim.info.run_id]
    assert f"its process {proc.pid} on this host is gone" in ended[0].data.tags["error"]
    assert not (tmp_path / "long" / "metrics.json").exists()  # and nothing half-written


def test_a_killed_run_ends_killed_when_the_next_run_starts(tmp_path):
    """The job and its helper killed together (a killed session, a closed lid): the
    run stays RUNNING until the next run on this host finds its process gone."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    proc = start(tmp_path, uri, LONG, f"out_dir={tmp_path / 'long'}")
    try:
        [victim] = wait_for(lambda: [r for r in runs(uri) if r.info.status == "RUNNING"], "the run started")
        os.killpg(proc.pid, signal.SIGKILL)  # the job and its tracking helper at once
        proc.wait(timeout=30)
        time.sleep(1)
    finally:
        kill_group(proc)
    assert MlflowClient(uri).get_run(victim.info.run_id).info.status == "RUNNING"  # nobody could end it
    assert not (tmp_path / "long" / "metrics.json").exists()  # and nothing half-written
    subprocess.run([sys.executable, "-m", "src.train", "num_iterations=10", f"out_dir={tmp_path / 'next'}",
                    f"hydra.run.dir={tmp_path / 'run2'}"], cwd=tmp_path, env=environment(uri), check=True, timeout=300,
                   capture_output=True)
    ended = MlflowClient(uri).get_run(victim.info.run_id)
    assert ended.info.status == "KILLED"
    assert f"its process {proc.pid}" in ended.data.tags["error"] and "is gone" in ended.data.tags["error"]
    assert sorted(r.info.status for r in runs(uri)) == ["FINISHED", "KILLED"]


@pytest.mark.parametrize("launcher", ["joblib_fork", "joblib"])
def test_workers_die_with_their_launcher(tmp_path, launcher):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    proc = start(tmp_path, uri, "-m", f"hydra/launcher={launcher}", LONG, "lambd=0,0.7")
    try:
        jobs = wait_for(lambda: [r for r in runs(uri) if r.info.status == "RUNNING" and "mlflow.parentRunId" in r.data.tags]
                        if sum(r.info.status == "RUNNING" and "mlflow.parentRunId" in r.data.tags for r in runs(uri)) == 2 else None,
                        "both jobs training")
        workers = [int(r.data.tags["pid"]) for r in jobs]
        assert proc.pid not in workers and all(alive(pid) for pid in workers)
        os.kill(proc.pid, signal.SIGKILL)  # the launcher only: its workers are on their own now
        killed = time.monotonic()
        wait_for(lambda: not any(alive(pid) for pid in workers), "the workers stopped", timeout=30)
        seconds = time.monotonic() - killed
        proc.wait(timeout=30)
    finally:
        kill_group(proc)
    assert seconds < 5, f"the workers outlived their launcher by {seconds:.1f} s"
    # each job ended its own run on the way out; the launcher's sweep run waits for the reaper
    by_role = {r.info.run_id: r for r in runs(uri)}
    for job in jobs:
        ended = by_role[job.info.run_id]
        # "is gone", not "stopped this job": the signal can come a moment before the orphaning
        assert ended.info.status == "KILLED" and f"launching process {proc.pid} is gone" in ended.data.tags["error"], ended.data.tags
    [parent] = [r for r in by_role.values() if r.data.tags.get("sweep_parent") == "true"]
    assert parent.info.status == "RUNNING"
    reaped = subprocess.run([sys.executable, "-m", "src.compare", "--reap"], cwd=tmp_path, env=environment(uri),
                            capture_output=True, text=True, timeout=120)
    assert reaped.returncode == 0 and "ended KILLED 1 run(s)" in reaped.stdout, reaped.stderr
    assert MlflowClient(uri).get_run(parent.info.run_id).info.status == "KILLED"


def test_a_lost_tracking_server_loses_no_result(tmp_path):
    """The server dies mid-run: training finishes, the run directory is complete, the one
    error line names what was not logged and the command that logs it; once a server
    answers again, that command completes the very run."""
    port = free_port()
    out = tmp_path / "out"
    with serve(tmp_path / "server", port=port) as uri:
        # ~10 s of training on the compiled kernel; a cost point every 100 iterations, sent every 500
        proc = start(tmp_path, uri, "num_iterations=1000000", f"out_dir={out}", "log_model=true")
        try:
            [live] = wait_for(lambda: [r for r in runs(uri) if r.info.status == "RUNNING"], "the run started")
            wait_for(lambda: MlflowClient(uri).get_metric_history(live.info.run_id, "cost"), "cost points arriving")
        except BaseException:
            kill_group(proc)
            raise
    # the server is gone (serve stops it on the way out); the job goes on
    try:
        _, stderr = proc.communicate(timeout=300)
    finally:
        kill_group(proc)
    lines = stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1 and "Traceback" not in stderr, stderr
    assert "stopped answering" in lines[0] and "not logged" in lines[0]
    command = re.search(r"`(python -m src\.tracking\.relog [^`]+)`", lines[0]).group(1)
    assert str(out) in command and live.info.run_id in command
    for name in ("config.yaml", "metrics.json", "tags.json", "dataset.json", "costs.csv", "params.npz", "cost.png"):
        assert (out / name).is_file(), name
    steps = [int(line.split(",")[0]) for line in (out / "costs.csv").read_text().splitlines()[1:]]
    assert steps[-1] == 999999

    with serve(tmp_path / "server", port=port) as uri:  # the same store, back on the same address
        relogged = subprocess.run(shlex.split(command), cwd=ROOT, env=environment(uri), capture_output=True, text=True,
                                  timeout=300)
        assert relogged.returncode == 0, relogged.stderr[-3000:]
        client = MlflowClient(uri)
        run = client.get_run(live.info.run_id)
        history = client.get_metric_history(live.info.run_id, "cost")
        assert run.info.status == "FINISHED"
        assert sorted({point.step for point in history}) == steps  # every point, none twice
        assert len(history) == len(steps)
        assert 0 <= run.data.metrics["train_accuracy"] <= 1 and run.data.tags["diagnosis"]
        assert client.search_logged_models([run.info.experiment_id], filter_string=f"source_run_id = '{run.info.run_id}'")
