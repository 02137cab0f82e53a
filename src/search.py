"""Coarse to fine (course 2, week 3): from a random search's trials to the next, narrower one.

    python -m src.train -m experiment=search_random          # coarse: 20 trials, log scale
    python -m src.search --sweep latest                      # prints the fine search's command
    python -m src.train -m experiment=search_fine search.lambd=[a,b] search.learning_rate=[c,d]

``fine_ranges`` is pure: the best ``top`` trials by the metric span a box in
log10 space; the fine search samples that box, widened by ``margin`` decades on
each side, within the coarse ranges.
"""
from __future__ import annotations

import argparse
import math
from collections.abc import Sequence

import pandas as pd

from .cli import report_errors
from .errors import InputError

PARAMS = ("lambd", "learning_rate")
COARSE = {"lambd": (1e-4, 10.0), "learning_rate": (1e-4, 1.0)}  # search_random's ranges


def fine_ranges(
    trials: pd.DataFrame,
    params: Sequence[str] = PARAMS,
    metric: str = "dev_accuracy",
    top: int = 5,
    margin: float = 0.25,
    bounds: dict[str, tuple[float, float]] | None = None,
) -> dict[str, tuple[float, float]]:
    """param -> (low, high) around the ``top`` best trials (largest ``metric``).

    ``trials`` has one row per trial with numeric columns ``params`` and ``metric``
    (or the ``params.*`` / ``metrics.*`` columns of ``mlflow.search_runs``).
    """
    table = trials.rename(columns=lambda c: c.split(".", 1)[1] if c.startswith(("params.", "metrics.")) else c)
    missing = [c for c in (*params, metric) if c not in table]
    if missing:
        raise InputError(f"--metric/params: the trials have no column(s) {missing}")
    table = table[[*params, metric]].apply(pd.to_numeric, errors="coerce").dropna()
    if table.empty:
        raise InputError("--sweep: no finished trial with those values")
    best = table.nlargest(top, metric, keep="all").head(top)
    ranges = {}
    for name in params:
        values = best[name][best[name] > 0]
        if values.empty:
            raise InputError(f"{name}: log-scale ranges need positive values")
        low = 10 ** (math.log10(values.min()) - margin)
        high = 10 ** (math.log10(values.max()) + margin)
        if bounds and name in bounds:
            low, high = max(low, bounds[name][0]), min(high, bounds[name][1])
        ranges[name] = (float(f"{low:.3g}"), float(f"{high:.3g}"))
    return ranges


def command(ranges: dict[str, tuple[float, float]]) -> str:
    parts = [f"search.{name}=[{low:g},{high:g}]" for name, (low, high) in ranges.items()]
    return "python -m src.train -m experiment=search_fine " + " ".join(parts)


@report_errors
def main(argv: list[str] | None = None) -> None:
    from .compare import load_runs

    parser = argparse.ArgumentParser(prog="python -m src.search", description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", default="latest", help="parent run id of the coarse search, or 'latest'")
    parser.add_argument("--metric", default="dev_accuracy")
    parser.add_argument("--top", type=int, default=5, help="trials that span the fine ranges")
    parser.add_argument("--margin", type=float, default=0.25, help="decades added on each side")
    args = parser.parse_args(argv)
    trials = load_runs(args.sweep)
    ranges = fine_ranges(trials, metric=args.metric, top=args.top, margin=args.margin, bounds=COARSE)
    for name, (low, high) in ranges.items():
        print(f"{name}: [{low:g}, {high:g}]")
    print(command(ranges))


if __name__ == "__main__":
    main()
