"""Batch norm lets a deep net train at learning rates where the plain net cannot.

    python -m src.pipeline.batchnorm_rates OUT.json OUT.png      (stage ``batchnorm_rates``)

Settings (params.yaml ``studies.batchnorm``): Hydra ``overrides`` (digits, the
deep net, epochs), a learning-rate grid ``rates`` run at the first seed, and
``rate``, run at every seed of ``seeds``. Each run trains the same initial
weights with and without ``batch_norm`` (it only swaps the hidden biases for
gamma/beta and draws nothing). Outcome: "diverged" = the cost became NaN/inf,
"stalled" = final training cost above 90 % of log K (K = 10 classes: the cost of
a uniform guess, e.g. every ReLU dead), "trained" otherwise; a seed counts as
trained when its train accuracy also exceeds ``trained_accuracy``.
"""
from __future__ import annotations


import numpy as np

from .. import recipe
from ..cli import arguments, report_errors
from ..io import atomic_write_json
from ..nn import model
from ..nn.fit import DivergedError
from ..config import run_config
from . import parallel
from .common import settings

STALLED = 0.9  # x log K


def one(overrides: list[str], rate: float, seed: int, batch_norm: bool) -> dict:
    config = run_config([*overrides, f"learning_rate={rate}", f"seed={seed}", f"batch_norm={str(batch_norm).lower()}"])
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # the overflow is the point; reported as "diverged"
            result = recipe.train(config)
    except DivergedError as error:
        return {"outcome": "diverged", "epoch": int(error.iteration)}
    last = result.costs[-1]
    stalled = last > STALLED * np.log(model.num_classes(result.params))
    return {
        "outcome": "stalled" if stalled else "trained",
        "final_cost": round(float(last), 12),
        **{split: round(result.metrics[f"{split}_accuracy"], 12) for split in ("train", "dev", "test")},
    }


def run(overrides: list[str], rates: list[float], rate: float, seeds: list[int], trained_accuracy: float) -> dict:
    runs = [(r, seeds[0]) for r in rates] + [(rate, s) for s in seeds]
    outcomes = iter(parallel.starmap(one, [(overrides, r, s, bn) for r, s in runs for bn in (False, True)]))
    pairs = [{"plain": next(outcomes), "batch_norm": next(outcomes)} for _ in runs]
    grid = [{"rate": r, **pair} for r, pair in zip(rates, pairs)]
    per_seed = [{"seed": s, **pair} for s, pair in zip(seeds, pairs[len(rates):])]

    def trained(r: dict) -> bool:
        return r["outcome"] == "trained" and r["train"] > trained_accuracy

    return {
        "overrides": overrides,
        "grid_seed": seeds[0],
        "grid": grid,
        "rate": rate,
        "per_seed": per_seed,
        "trained_accuracy": trained_accuracy,
        "trained": {arm: sum(trained(row[arm]) for row in per_seed) for arm in ("plain", "batch_norm")},
    }


def plot(record: dict, path) -> None:
    from .. import plots

    def train_accuracy(r: dict) -> float:
        return r["train"] if "train" in r else np.nan  # diverged: a gap in the line

    rates = [row["rate"] for row in record["grid"]]
    plots.rate_outcomes(rates, {
        "no batch norm": [train_accuracy(row["plain"]) for row in record["grid"]],
        "batch norm": [train_accuracy(row["batch_norm"]) for row in record["grid"]],
    }, path, title=f"Digits, 4 x 64 ReLU layers: train accuracy after training (seed {record['grid_seed']})")


@report_errors
def main(argv: list[str] | None = None) -> None:
    argv = arguments(argv, 2, "python -m src.pipeline.batchnorm_rates OUT.json OUT.png")
    s = settings("batchnorm")
    record = run(list(s["overrides"]), [float(r) for r in s["rates"]], float(s["rate"]),
                 [int(seed) for seed in s["seeds"]], float(s["trained_accuracy"]))
    plot(record, argv[1])
    atomic_write_json(argv[0], record)
    n = len(record["per_seed"])
    print(f"batchnorm: at learning rate {record['rate']:g}, {record['trained']['batch_norm']}/{n} seeds train with "
          f"batch norm, {record['trained']['plain']}/{n} without")


if __name__ == "__main__":
    main()
