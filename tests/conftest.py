"""Shared test setup.

No test sends traffic off the machine, and none touches the project's own
MLflow store: every test (and every subprocess it starts) tracks into a
temporary SQLite file unless it points MLFLOW_TRACKING_URI elsewhere itself.
"""
from __future__ import annotations

import os

import pytest

pytest_plugins = ("tests.mlflow_server",)  # the mlflow_server fixture: a real server on loopback

# Set at import, before any test module imports mlflow, ray or dvc.
OFFLINE = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "1",
    "DVC_NO_ANALYTICS": "1",
    "RAY_USAGE_STATS_ENABLED": "0",
}
os.environ.update(OFFLINE)


@pytest.fixture(autouse=True, scope="session")
def private_tracking_store(tmp_path_factory):
    store = tmp_path_factory.mktemp("mlflow")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store / 'mlflow.db'}")
        patch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
        yield store
