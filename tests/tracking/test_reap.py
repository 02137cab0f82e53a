"""Runs whose process is gone end KILLED; live runs and other hosts' runs are never touched."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from mlflow.tracking import MlflowClient

from src.tracking import reap


@pytest.fixture
def client(tmp_path):
    return MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")


def dead_pid() -> int:
    """The pid of a process that has just exited (and so exists no more)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_only_this_hosts_runs_whose_process_is_gone_are_reaped(client):
    experiment = client.create_experiment("reap")
    me = reap.process_tags()
    gone = dead_pid()
    runs = {
        "alive": reap.process_tags(),  # this very process
        "dead": {**me, reap.PID_TAG: str(gone), reap.START_TAG: "1"},
        "pid reused": {**me, reap.START_TAG: str(int(me[reap.START_TAG]) - 1)},  # our pid, another start time
        "other host": {**me, reap.HOST_TAG: "elsewhere", reap.PID_TAG: str(gone)},
        "no tags": {},  # runs logged before these tags existed
    }
    ids = {name: client.create_run(experiment, run_name=name, tags=tags).info.run_id for name, tags in runs.items()}
    finished = client.create_run(experiment, run_name="finished", tags=runs["dead"]).info.run_id
    client.set_terminated(finished, "FINISHED")

    reaped = reap.reap(client, [experiment])

    assert sorted(reaped) == sorted([ids["dead"], ids["pid reused"]])
    status = {name: client.get_run(run_id).info.status for name, run_id in ids.items()}
    assert status == {"alive": "RUNNING", "dead": "KILLED", "pid reused": "KILLED", "other host": "RUNNING", "no tags": "RUNNING"}
    assert "process" in client.get_run(ids["dead"]).data.tags["error"]
    assert client.get_run(finished).info.status == "FINISHED"
    assert reap.reap(client, [experiment]) == []  # nothing left to do


def test_process_start_tells_a_reused_pid_apart():
    assert reap.process_start(os.getpid()) == reap.process_tags()[reap.START_TAG]
    assert reap.process_start(dead_pid()) is None
