"""Early stopping on the dev split against training to the end, over several seeds.

    python -m src.pipeline.early_stopping OUT.json      (stage ``early_stopping``)

Settings (params.yaml ``studies.early_stopping``): Hydra ``overrides`` (data, net,
epochs), ``patience``, ``seeds``. Each seed trains the same configuration twice
through ``recipe.train`` (all runs on every core): to the end, and with ``early_stopping.patience``
(dev cross-entropy checked every ``cost_every`` epochs, the best parameters
restored). The record keeps both runs' accuracies, the best iteration, and the
mean over seeds; whether stopping helped on dev is read off the means, not
assumed.
"""
from __future__ import annotations


import numpy as np

from .. import recipe
from ..cli import arguments, report_errors
from ..io import atomic_write_json
from ..config import run_config
from . import parallel
from .common import settings

SPLITS = ("train", "dev", "test")


def metrics(overrides: list[str], seed: int, patience: int | None) -> dict:
    """One run's metrics: to the end, or with early stopping after ``patience`` epochs."""
    stopping = [] if patience is None else [f"early_stopping.patience={patience}"]
    return recipe.train(run_config([*overrides, f"seed={seed}", *stopping])).metrics


def run(overrides: list[str], patience: int, seeds: list[int]) -> dict:
    # every run on every core (src/pipeline/parallel.py); the record is a serial run's
    results = iter(parallel.starmap(metrics, [(overrides, seed, p) for seed in seeds for p in (None, patience)]))
    rows = []
    for seed in seeds:
        end, stopped = next(results), next(results)
        rows.append({
            "seed": seed,
            **{f"{split}_end": round(end[f"{split}_accuracy"], 12) for split in SPLITS},
            **{f"{split}_stopped": round(stopped[f"{split}_accuracy"], 12) for split in SPLITS},
            "best_iteration": int(stopped["best_iteration"]),
            "stopped_early": bool(stopped["stopped_early"]),
        })
    keys = [k for k in rows[0] if k.endswith(("_end", "_stopped"))]
    mean = {k: round(float(np.mean([r[k] for r in rows])), 12) for k in keys}
    return {
        "overrides": overrides,
        "patience": patience,
        "seeds": rows,
        "mean": mean,
        "dev_gain": round(mean["dev_stopped"] - mean["dev_end"], 12),
        "seeds_improved": sum(r["dev_stopped"] > r["dev_end"] for r in rows),
        "seeds_worse": sum(r["dev_stopped"] < r["dev_end"] for r in rows),
    }


@report_errors
def main(argv: list[str] | None = None) -> None:
    argv = arguments(argv, 1, "python -m src.pipeline.early_stopping OUT.json")
    s = settings("early_stopping")
    record = run(list(s["overrides"]), int(s["patience"]), [int(seed) for seed in s["seeds"]])
    atomic_write_json(argv[0], record)
    mean = record["mean"]
    print(f"early_stopping: dev {mean['dev_end']:.4f} to the end, {mean['dev_stopped']:.4f} stopped "
          f"(better on {record['seeds_improved']}/{len(record['seeds'])} seeds)")


if __name__ == "__main__":
    main()
