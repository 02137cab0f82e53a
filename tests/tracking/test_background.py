"""A job's tracking in a helper process: the same runs as in-process tracking, its
failures said in one line, Ctrl-C and errors ending the run as before."""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from src.tracking import background
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


def train(tmp_path: Path, uri: str, *overrides: str, stderr_to=subprocess.PIPE, **popen) -> subprocess.Popen:
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "MLFLOW_EXPERIMENT_NAME": "helper", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "src.train", *overrides, f"out_dir={tmp_path / 'out'}",
                             f"hydra.run.dir={tmp_path / 'hydra'}"], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                            stderr=stderr_to, text=True, **popen)


def only_run(uri: str):
    client = MlflowClient(uri)
    [run] = client.search_runs([client.get_experiment_by_name("helper").experiment_id])
    return run


def test_in_process_once_mlflow_is_imported():
    """Here (pytest has imported MLflow) a helper would save nothing."""
    assert "mlflow" in sys.modules and not background.pays()


def test_a_tracked_run_through_its_helper_is_complete(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    proc = train(tmp_path, uri, "num_iterations=300")
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    run = only_run(uri)
    client = MlflowClient(uri)
    assert run.info.status == "FINISHED" and run.info.run_name == "circles he num_iterations=300"
    assert run.data.tags["pid"] == str(proc.pid) and run.data.tags["diagnosis"] and run.data.params["num_iterations"] == "300"
    assert [p.step for p in client.get_metric_history(run.info.run_id, "cost")] == [0, 100, 200, 299]
    assert {"metrics.json", "params.npz", "dataset.json"} <= {f.path for f in client.list_artifacts(run.info.run_id)}


def test_a_job_error_ends_its_run_failed_with_the_message(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    proc = train(tmp_path, uri, "lambd=-1")
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 1 and stderr.strip() == "error: lambd: must be >= 0, got -1"
    run = only_run(uri)
    assert run.info.status == "FAILED" and run.data.tags["error"] == "InputError: lambd: must be >= 0, got -1"


def test_a_store_that_cannot_be_opened_stops_the_job_in_one_line(tmp_path):
    broken = tmp_path / "broken.db"
    broken.write_text("not a database\n" * 1000)
    proc = train(tmp_path, f"sqlite:///{broken}", "num_iterations=50000000")  # minutes of training, if nothing stopped it
    _, stderr = proc.communicate(timeout=120)
    lines = stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1 and "Traceback" not in stderr, stderr
    assert lines[0].startswith(f"error: MLFLOW_TRACKING_URI: could not open the tracking store sqlite:///{broken}")
    assert not (tmp_path / "out" / "metrics.json").exists()


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("args", [["tracking=false", "num_iterations=100"], ["--help"], ["dataset=nope"]],
                         ids=["untracked", "help", "bad-override"])
def test_a_cli_that_tracks_nothing_ends_its_early_helper_and_touches_no_store(tmp_path, args):
    """The train CLI forks its tracking helper before Hydra composes; when no tracked run
    follows, the helper ends with the CLI (nothing left in its process group) and never
    opened the store (it only imports until the job asks for a run)."""
    db = tmp_path / "store" / "mlflow.db"
    with open(tmp_path / "stderr", "w") as stderr:  # not a pipe: a helper holding it would make waiting for it wait for the helper
        proc = train(tmp_path, f"sqlite:///{db}", *args, start_new_session=True, stderr_to=stderr)
        proc.wait(timeout=120)
    assert proc.returncode == (1 if "dataset=nope" in args else 0), (tmp_path / "stderr").read_text()
    assert not group_alive(proc.pid)  # checked at once: a helper left to itself would still be importing MLflow
    assert not db.parent.exists()


@pytest.mark.slow
def test_ctrl_c_ends_the_run_killed(tmp_path):
    """Ctrl-C reaches the job and its helper (one process group); the helper leaves the
    ending to the job, which says "interrupted" and exits 130, the run KILLED."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    MlflowClient(uri).search_experiments()  # the store made here, so polling it cannot race its creation
    proc = train(tmp_path, uri, "num_iterations=50000000", start_new_session=True)
    try:
        wait_for(lambda: only_run(uri).info.status == "RUNNING", "the run started", process=proc)
        os.killpg(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130 and stderr.strip().splitlines()[-1] == "interrupted" and "Traceback" not in stderr
    run = only_run(uri)
    assert run.info.status == "KILLED" and run.data.tags["error"].startswith("KeyboardInterrupt")


def test_a_helper_gone_mid_run_loses_no_result(tmp_path):
    """The helper killed (not the job): training goes on, the run directory is complete,
    and the one error line gives the command that logs it."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    MlflowClient(uri).search_experiments()
    proc = train(tmp_path, uri, "num_iterations=400000", "log_model=false")  # ~5 s on the compiled kernel
    try:
        wait_for(lambda: only_run(uri).info.status == "RUNNING", "the run started", process=proc)
        [helper] = [int(pid) for pid in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]
        os.kill(helper, signal.SIGKILL)
        _, stderr = proc.communicate(timeout=300)
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    lines = stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1 and "Traceback" not in stderr, stderr
    assert f"its tracking helper process {helper} is gone" in lines[0]
    assert f"python -m src.tracking.relog {tmp_path / 'out'}" in lines[0]
    assert (tmp_path / "out" / "metrics.json").is_file() and (tmp_path / "out" / "params.npz").is_file()


def test_a_job_gone_before_its_answer_leaves_its_run_ended(tmp_path, monkeypatch):
    """Ctrl-C: a job says its run ends KILLED, then its worker is stopped before the answer
    comes. The helper's answer finds no one (a broken pipe); the run stays ended."""
    import multiprocessing

    from src.config import compose
    from src.tracking import runs

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "helper")
    job, helper = multiprocessing.Pipe()
    job.send(("open", runs.describe(compose(["num_iterations=10"]))))
    job.send(("end", "KILLED", "KeyboardInterrupt: "))
    job.close()
    background.serve_run(helper, os.getpid())
    run = only_run(uri)
    assert run.info.status == "KILLED" and run.data.tags["error"] == "KeyboardInterrupt: "
