"""src/compare.py: a sortable table of runs, without the MLflow UI."""
from __future__ import annotations

import pandas as pd
import pytest
from mlflow.entities import Metric, Param

from src import compare
from src.tracking import runs as tracking_runs
from src.tracking import store
from src.errors import InputError


def search_result(rows: list[dict]) -> pd.DataFrame:
    """What mlflow.search_runs returns: params as strings, metrics as floats."""
    return pd.DataFrame(
        {
            "run_id": [f"id{i}" for i in range(len(rows))],
            "status": "FINISHED",
            "tags.mlflow.runName": [r["name"] for r in rows],
            "params.lambd": [r["lambd"] for r in rows],
            "params.keep_prob": [r["keep_prob"] for r in rows],
            "params.layers": "[20, 3]",
            "metrics.test_accuracy": [r["test"] for r in rows],
            "metrics.dev_accuracy": [r["dev"] for r in rows],
            "metrics.gradcheck_difference": float("nan"),
        }
    )


RUNS = search_result(
    [
        {"name": "a", "lambd": "0", "keep_prob": "1", "test": 0.90, "dev": 0.80},
        {"name": "b", "lambd": "0.7", "keep_prob": "1", "test": 0.93, "dev": 0.95},
        {"name": "c", "lambd": "10", "keep_prob": "0.86", "test": 0.95, "dev": 0.85},
    ]
)


def test_default_order_is_best_dev_accuracy_first():
    table = compare.runs_table(RUNS)
    assert list(table["run"]) == ["b", "c", "a"]
    assert list(table.columns[:2]) == ["run", "status"]
    assert "gradcheck_difference" not in table  # never logged: no column


def test_params_sort_as_numbers_not_strings():
    table = compare.runs_table(RUNS, sort_by="lambd", ascending=True)
    assert list(table["lambd"]) == [0.0, 0.7, 10.0]
    assert list(table["layers"]) == ["[20, 3]"] * 3  # not a number: left as text


def test_unknown_sort_column_names_the_choices():
    with pytest.raises(InputError, match="--sort: no column 'nope'"):
        compare.runs_table(RUNS, sort_by="nope")


def test_cli_reads_a_sweep_and_writes_markdown_and_csv(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "compare")
    client, experiment_id = store.open_store()
    lone = client.create_run(experiment_id, run_name="single").info.run_id
    client.log_batch(lone, metrics=[Metric("test_accuracy", 0.5, 0, 0)])
    parent = client.create_run(experiment_id, run_name="sweep", tags={"sweep_parent": "true"}).info.run_id
    for i, (lambd, accuracy) in enumerate([("0", 0.91), ("0.7", 0.93)]):
        child = client.create_run(experiment_id, run_name=f"job{i}", tags={tracking_runs.PARENT_TAG: parent}).info.run_id
        client.log_batch(child, metrics=[Metric("test_accuracy", accuracy, 0, 0)], params=[Param("lambd", lambd)])

    compare.main(["--sweep", "latest", "--out", str(tmp_path / "table")])
    shown = capsys.readouterr().out
    assert shown.index("job1") < shown.index("job0") and "single" not in shown
    csv = pd.read_csv(tmp_path / "table.csv")
    assert list(csv["run"]) == ["job1", "job0"] and list(csv["test_accuracy"]) == [0.93, 0.91]
    assert (tmp_path / "table.md").read_text().startswith("| run ")

    compare.main(["--out", str(tmp_path / "all")])  # the whole experiment, sweep parents left out
    assert sorted(pd.read_csv(tmp_path / "all.csv")["run"]) == ["job0", "job1", "single"]


def test_missing_store_or_sweep_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    with pytest.raises(SystemExit) as exit_info:
        compare.main(["--out", str(tmp_path / "t")])
    assert exit_info.value.code == 1
    assert capsys.readouterr().err == f"error: MLFLOW_TRACKING_URI: no MLflow store at {tmp_path / 'mlflow.db'} yet (train something first)\n"
    assert not (tmp_path / "mlflow.db").exists()

    store.open_store()
    with pytest.raises(SystemExit):
        compare.main(["--sweep", "latest", "--out", str(tmp_path / "t")])
    assert capsys.readouterr().err.splitlines()[-1] == "error: --sweep: no sweep in experiment 'improving-dnn'"


def test_unknown_sweep_id_is_a_one_line_error_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "compare")
    client, experiment_id = store.open_store()
    parent = client.create_run(experiment_id, run_name="sweep", tags={"sweep_parent": "true"}).info.run_id
    child = client.create_run(experiment_id, run_name="job0", tags={tracking_runs.PARENT_TAG: parent}).info.run_id
    client.log_batch(child, metrics=[Metric("test_accuracy", 0.9, 0, 0)])
    lone = client.create_run(experiment_id, run_name="single").info.run_id

    compare.main(["--sweep", parent, "--out", str(tmp_path / "table")])  # a sweep by its id
    assert list(pd.read_csv(tmp_path / "table.csv")["run"]) == ["job0"]
    before = (tmp_path / "table.md").read_text()
    capsys.readouterr()

    for unknown in ("deadbeef", lone):  # no such run; a run that is not a sweep
        with pytest.raises(SystemExit) as exit_info:
            compare.main(["--sweep", unknown, "--out", str(tmp_path / "table")])
        assert exit_info.value.code == 1
        assert capsys.readouterr().err == f"error: --sweep: no sweep {unknown} in experiment 'compare'\n"
    assert (tmp_path / "table.md").read_text() == before  # not overwritten with an empty table
