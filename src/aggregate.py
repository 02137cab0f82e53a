"""Mean +- std of each metric over seeds, one row per configuration.

A configuration is every param except the seed (and ``out_dir``, which names a
run's directory rather than what was trained), so runs that differ only in
their seed fall into one group:

    aggregate(runs)                       # mlflow.search_runs output ("params.*", "metrics.*")
    aggregate(table, metrics=["dev_accuracy"])   # or plain columns: the rest are params

Pure pandas: no MLflow, no I/O. ``python -m src.compare --aggregate`` prints it
for tracked runs.
"""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

IGNORED = ("seed", "out_dir")


def aggregate(
    runs: pd.DataFrame,
    metrics: Sequence[str] | None = None,
    params: Sequence[str] | None = None,
    ignore: Sequence[str] = IGNORED,
    varying_only: bool = False,
) -> pd.DataFrame:
    """Columns: the params that identify a configuration, ``n`` (runs), then
    ``<metric>_mean`` and ``<metric>_std`` (sample std, ddof=1; NaN for one run).

    ``metrics`` default to the ``metrics.*`` columns; ``params`` to every other
    column (``params.*`` ones in search_runs layout), less ``ignore``.
    ``varying_only`` keeps only the params that differ between runs as columns
    (the sweep's own axes): easier to read when a config has dozens of keys."""
    if params is None and any(c.startswith("params.") for c in runs.columns):
        params = [c.removeprefix("params.") for c in runs.columns if c.startswith("params.")]
    table = _plain(runs)
    if metrics is None:
        metrics = [c.removeprefix("metrics.") for c in runs.columns if c.startswith("metrics.")]
    metrics = [m for m in metrics if m in table]
    if not metrics:
        raise ValueError("aggregate: no metric columns to aggregate")
    candidates = table.columns if params is None else params
    params = [c for c in candidates if c in table and c not in metrics and c not in ignore and table[c].notna().any()]
    if varying_only:
        params = [c for c in params if table[c].astype(str).nunique() > 1]
    values = table[metrics].apply(pd.to_numeric, errors="coerce")
    keys = table[params].astype(str) if params else pd.Series("all", index=table.index, name="config")
    grouped = values.groupby([keys[c] for c in params] if params else keys, dropna=False, sort=True)
    stats = grouped.agg(["mean", "std"])
    stats.columns = [f"{metric}_{stat}" for metric, stat in stats.columns]
    stats.insert(0, "n", grouped.size())
    return stats.reset_index()


def _plain(runs: pd.DataFrame) -> pd.DataFrame:
    """From ``search_runs`` layout to plain columns: params and metrics by their own names."""
    if not any(c.startswith(("params.", "metrics.")) for c in runs.columns):
        return runs
    keep = {c: c.split(".", 1)[1] for c in runs.columns if c.startswith(("params.", "metrics."))}
    return runs[list(keep)].rename(columns=keep)


def mean_std(row: pd.Series, metric: str, digits: int = 4) -> str:
    """'0.9500 +- 0.0120' for one aggregated row."""
    return f"{row[f'{metric}_mean']:.{digits}f} +- {row[f'{metric}_std']:.{digits}f}"
