"""Compare tracked runs without the MLflow UI.

    python -m src.compare                          # every run of the experiment
    python -m src.compare --sweep latest           # the jobs of the newest sweep
    python -m src.compare --sweep RUN_ID --sort test_accuracy --ascending
    python -m src.compare --sweep latest --aggregate   # mean +- std over seeds per configuration
    python -m src.compare --reap                   # end KILLED this host's runs whose process is gone

Prints a table of params and metrics, one row per run, and writes it as
``OUT.md`` and ``OUT.csv`` (default ``outputs/compare``). The store and the
experiment are the ones ``src.tracking`` logs to.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from .tracking import runs as tracking_runs
from .tracking import store
from .tracking.reap import reap
from .aggregate import aggregate
from .cli import report_errors
from .errors import InputError
from .io import atomic_write_text

METRICS = ("train_accuracy", "dev_accuracy", "test_accuracy", "final_cost", "gradcheck_difference", "train_seconds")


def runs_table(runs: pd.DataFrame, sort_by: str | None = None, ascending: bool = False) -> pd.DataFrame:
    """From ``mlflow.search_runs`` output to one readable row per run.

    Columns: run name, status, the contract params, the metrics, the run id.
    The default sort is the best dev accuracy (test accuracy without a dev split).
    """
    table = pd.DataFrame(index=runs.index)
    table["run"] = runs.get("tags.mlflow.runName")
    table["status"] = runs.get("status")
    for name in tracking_runs.CONTRACT_PARAMS:
        if f"params.{name}" in runs:
            table[name] = _numeric_if_possible(runs[f"params.{name}"])
    for name in METRICS:
        if f"metrics.{name}" in runs and runs[f"metrics.{name}"].notna().any():
            table[name] = runs[f"metrics.{name}"]
    table["run_id"] = runs.get("run_id")
    return _sorted(table, sort_by, ascending, best=("dev_accuracy", "test_accuracy"))


def aggregated_table(runs: pd.DataFrame, sort_by: str | None = None, ascending: bool = False) -> pd.DataFrame:
    """``--aggregate``: runs that differ only in their seed as one row, ``n`` and
    ``<metric>_mean`` / ``<metric>_std``; the columns before are the params that vary."""
    metrics = [m for m in METRICS if f"metrics.{m}" in runs and runs[f"metrics.{m}"].notna().any()]
    if runs.empty or not metrics:
        return pd.DataFrame()
    table = aggregate(runs, metrics=metrics, varying_only=True)
    return _sorted(table, sort_by, ascending, best=("dev_accuracy_mean", "test_accuracy_mean"))


def _sorted(table: pd.DataFrame, sort_by: str | None, ascending: bool, best: tuple[str, ...]) -> pd.DataFrame:
    """Sorted by ``sort_by``, by default the first of ``best`` the table has (stable, NaN last)."""
    if sort_by is None:
        sort_by = next((column for column in best if column in table), None)
    if sort_by is None:
        return table.reset_index(drop=True)
    if sort_by not in table:
        raise InputError(f"--sort: no column {sort_by!r} (choose from {', '.join(table.columns)})")
    return table.sort_values(sort_by, ascending=ascending, na_position="last", kind="stable").reset_index(drop=True)


def _numeric_if_possible(column: pd.Series) -> pd.Series:
    # MLflow stores params as strings; numbers should sort as numbers.
    numbers = pd.to_numeric(column, errors="coerce")
    return numbers if numbers.notna().sum() == column.notna().sum() else column


def sweep_parent(client, experiment_id: str, sweep: str) -> str:
    """The parent run id for ``--sweep``: a sweep's parent run id, or ``latest`` for
    the newest sweep. Either must be a sweep of the experiment: an unknown id would
    otherwise read as a sweep without runs."""
    query = "tags.sweep_parent = 'true'"
    if sweep != "latest":
        query += f" and attributes.run_id = {tracking_runs.quoted(sweep)}"
    found = client.search_runs([experiment_id], query, order_by=["attributes.start_time DESC"], max_results=1)
    if not found:
        which = "" if sweep == "latest" else f" {sweep}"
        raise InputError(f"--sweep: no sweep{which} in experiment {store.experiment_name()!r}")
    return found[0].info.run_id


def load_runs(sweep: str | None = None) -> pd.DataFrame:
    """One sweep's jobs, or every training run of the experiment (sweep parents left out)."""
    db = store.sqlite_file(store.tracking_uri())
    if db is not None and not db.is_file():
        raise InputError(f"MLFLOW_TRACKING_URI: no MLflow store at {db} yet (train something first)")
    client, experiment_id = store.open_store()
    mlflow = store.fluent_mlflow()
    if sweep is not None:
        parent = sweep_parent(client, experiment_id, sweep)
        return mlflow.search_runs([experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent}'")
    runs = mlflow.search_runs([experiment_id])
    # A "!=" tag filter would also drop runs without the tag, so filter here.
    parents = runs.get("tags.sweep_parent", pd.Series(index=runs.index, dtype=object)) == "true"
    return runs[~parents]


def write(table: pd.DataFrame, out: str | Path) -> tuple[Path, Path]:
    out = Path(out)
    markdown, csv = out.with_name(out.name + ".md"), out.with_name(out.name + ".csv")
    atomic_write_text(markdown, table.to_markdown(index=False, floatfmt=".4g") + "\n")
    atomic_write_text(csv, table.to_csv(index=False))
    return markdown, csv


@report_errors
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m src.compare", description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", help="parent run id of a sweep, or 'latest'; default: all runs of the experiment")
    parser.add_argument("--sort", help="column to sort by (default dev_accuracy, else test_accuracy)")
    parser.add_argument("--ascending", action="store_true", help="smallest first (default: largest first)")
    parser.add_argument("--out", default="outputs/compare", help="writes OUT.md and OUT.csv (default outputs/compare)")
    parser.add_argument("--aggregate", action="store_true",
                        help="one row per configuration: mean and std of each metric over seeds (src/aggregate.py)")
    parser.add_argument("--reap", action="store_true",
                        help="only end KILLED the RUNNING runs of this host whose process is gone (src/tracking/reap.py)")
    args = parser.parse_args(argv)
    if args.reap:
        client, experiment_id = store.open_store()
        reaped = reap(client, [experiment_id])
        print(f"ended KILLED {len(reaped)} run(s) whose process is gone" + "".join(f"\n  {run_id}" for run_id in reaped))
        return
    runs = load_runs(args.sweep)
    if args.aggregate:
        table = aggregated_table(runs, args.sort, args.ascending)
    else:
        table = runs_table(runs, args.sort, args.ascending)
    with pd.option_context("display.width", 200, "display.max_columns", None, "display.max_rows", None):
        print(table.drop(columns="run_id", errors="ignore").to_string(index=False) if len(table) else "no runs")
    markdown, csv = write(table, args.out)
    print(f"wrote {markdown} and {csv}", file=sys.stderr)


if __name__ == "__main__":
    main()
