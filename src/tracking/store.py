"""Where runs go: the MLflow store and the experiment, and the tags every run carries.

Store: ``MLFLOW_TRACKING_URI`` if set (sqlite, file or an ``http://`` server), else
``sqlite:///<project root>/mlflow.db`` with artifacts in ``<root>/mlruns``, whatever
the current directory. Experiment: ``MLFLOW_EXPERIMENT_NAME`` or ``improving-dnn``,
created with a description (MLflow's ``mlflow.note.content``).

mlflow is imported inside the functions, so ``tracking=false`` never pays for it.
"""
from __future__ import annotations

import contextlib
import functools
import getpass
import logging
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from filelock import FileLock

from .. import PROJECT_ROOT
from ..errors import InputError
from ..heavy_imports import import_paused

DEFAULT_EXPERIMENT = "improving-dnn"
EXPERIMENT_DESCRIPTION = (
    "Runs of improving-dnn (README.md): one run per `python -m src.train` job, a parent run per sweep with "
    "its jobs as child runs, and the DVC pipeline's runs. Each run: the config as params, the cost curve "
    "(`cost`, step = iteration), train/dev/test accuracy, the bias/variance diagnosis (tags), the at-init "
    "gradient check, its data as dataset inputs (train/dev/test), the trained network as the model `model`."
)
SERVER_TIMEOUT = 5.0  # seconds to wait for a tracking server's /health answer
# MLflow retries a failing HTTP call 7 times with exponential back-off (minutes);
# a run should rather fail fast and say so. The user's own settings win.
HTTP_LIMITS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
               "MLFLOW_HTTP_REQUEST_TIMEOUT": "20"}
QUIET = {"MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}  # no progress bars on a CLI's stderr
ERROR_TAG = "error"  # why a run ended FAILED or KILLED (the job's error, the reaper's finding)


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{PROJECT_ROOT / 'mlflow.db'}"


def experiment_name() -> str:
    return os.environ.get("MLFLOW_EXPERIMENT_NAME") or DEFAULT_EXPERIMENT


def sqlite_file(uri: str) -> Path | None:
    if uri.startswith("sqlite:///") and ":memory:" not in uri:
        return Path(uri.removeprefix("sqlite:///"))
    return None


def is_server(uri: str) -> bool:
    return uri.startswith(("http://", "https://"))


def check_server(uri: str) -> None:
    """A tracking server that does not answer fails the run at once, in one line,
    before anything is logged (rather than after minutes of retries)."""
    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=SERVER_TIMEOUT) as response:
            response.read()
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise InputError(
            f"MLFLOW_TRACKING_URI: no MLflow tracking server answers at {uri} ({reason}); start one "
            "(mlflow server --host 127.0.0.1 --port PORT), or unset it to log to mlflow.db"
        ) from None


def check_store() -> None:
    """What can be checked of the store without importing MLflow, at once: a tracking
    server answers, a SQLite store's folder can be made. (A helper process opens the
    store itself, src/tracking/background.py; these errors must come before training.)"""
    uri = tracking_uri()
    if is_server(uri):
        check_server(uri)
    db = sqlite_file(uri)
    if db is not None:
        try:
            db.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise InputError(f"MLFLOW_TRACKING_URI: cannot make the folder of {db} ({error.strerror})") from None


def fluent_mlflow():
    """The ``mlflow`` module, its fluent API (``mlflow.search_runs``, ``mlflow.start_run``)
    pointed at this store. That API reads one process-wide URI, which whatever last set
    it decides (in a test process, another test's store): every caller sets it here."""
    import mlflow

    mlflow.set_tracking_uri(tracking_uri())
    return mlflow


def import_store_code() -> None:
    """Import what ``open_store`` and a run will use (most of their cost), touching no store."""
    modules = ["mlflow.tracking"]
    if sqlite_file(tracking_uri()) is not None:
        modules.append("mlflow.store.tracking.sqlalchemy_store")  # SQLAlchemy's models, alembic
    import_paused(*modules)


def open_store():
    """(client, experiment id). Creating and migrating a new SQLite store, and the
    experiment, happens once under a file lock: parallel jobs on a fresh store
    would otherwise race through MLflow's schema migrations."""
    import_store_code()
    from mlflow.tracking import MlflowClient

    # Creating a store logs its schema migrations at INFO on stderr, logging a model
    # that it checked the input example: noise here.
    for name in ("mlflow.store.db.utils", "alembic", "mlflow.pyfunc"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for key, value in QUIET.items():
        os.environ.setdefault(key, value)
    uri = tracking_uri()
    if is_server(uri):
        for key, value in HTTP_LIMITS.items():
            os.environ.setdefault(key, value)
        check_server(uri)
    db = sqlite_file(uri)
    lock = contextlib.nullcontext()
    if db is not None:
        # A connection per session, none kept: a sweep's workers are forked from
        # this process (src/launcher.py), and SQLite connections must not cross a fork.
        os.environ.setdefault("MLFLOW_SQLALCHEMYSTORE_POOLCLASS", "NullPool")
        db.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(f"{db}.lock", timeout=300)
    with lock:
        client = MlflowClient(uri)
        # Artifacts of a SQLite store go beside it, not into ./mlruns of the cwd.
        artifact_root = (db.resolve().parent / "mlruns").as_uri() if db is not None else None
        return client, _experiment_id(client, experiment_name(), artifact_root)


def _experiment_id(client, name: str, artifact_root: str | None) -> str:
    from mlflow.exceptions import MlflowException

    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    try:
        return client.create_experiment(name, artifact_location=artifact_root,
                                        tags={"mlflow.note.content": EXPERIMENT_DESCRIPTION})
    except MlflowException:
        # Another process (e.g. on a shared server) created it first.
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            raise
        return experiment.experiment_id


@functools.cache
def source_tags() -> dict[str, str]:
    """MLflow's system tags of where a run comes from: the entry point, the user, the
    project checkout's commit (and whether it had uncommitted changes)."""
    entry = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else PROJECT_ROOT
    try:
        name = entry.relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        name = str(entry)
    tags = {"mlflow.source.name": name, "mlflow.source.type": "LOCAL", "mlflow.user": _user()}

    def git(*args):
        return subprocess.run(["git", "-C", str(PROJECT_ROOT), *args], capture_output=True, text=True, timeout=20, check=True).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return tags
    return {**tags, "mlflow.source.git.commit": commit, "git_dirty": str(dirty).lower()}


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name for this uid (e.g. some containers)
        return str(os.getuid())
