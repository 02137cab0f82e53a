"""Epochs and wall time to a target training cost: gd / momentum / rmsprop / adam on football.

    .venv/bin/python bench/optimizers_bench.py [--epochs 10000] [--rates 0.001,0.003,...] [--seed 3]

The target is the baseline's final training cost: plain full-batch gradient
descent at the best learning rate of the grid after ``--epochs`` epochs (the
best = the lowest final cost). Every optimizer then trains from the same initial
weights at every rate of the same grid until its cost first reaches the target;
the table gives, per optimizer, its best rate, the epochs and the seconds that
took, and the speed-up in epochs over gd. "-" = never reached within the budget
(or diverged). The cost is computed every epoch here, so the times include it.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from hydra import compose, initialize_config_dir  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from src.nn.fit import DivergedError, fit  # noqa: E402
from src.nn.init import initialize  # noqa: E402
from src.nn.optimizers import OPTIMIZERS  # noqa: E402
from src.randomness import make_randomness  # noqa: E402
from src.train import load_dataset  # noqa: E402

RATES = (0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)


class Reached(Exception):
    def __init__(self, epoch: int):
        self.epoch = epoch


def config(overrides: list[str]):
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        return compose("config", ["dataset=football", "init=he", "tracking=false", *overrides])


def run(initial, X, Y, optimizer: str, rate: float, epochs: int, target: float | None):
    """(epochs to target or None, seconds to target or to the end, final cost or nan)."""
    def check(epoch, value):
        if target is not None and value <= target:
            raise Reached(epoch)

    start = time.perf_counter()
    try:
        result = fit(initial, X, Y, learning_rate=rate, num_iterations=epochs, cost_every=1, on_cost=check,
                     optimizer=optimizer, optimizer_options=OPTIMIZERS[optimizer].hyper)
    except Reached as reached:
        return reached.epoch, time.perf_counter() - start, np.nan
    except DivergedError:
        return None, time.perf_counter() - start, np.nan
    return None, time.perf_counter() - start, result.costs[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10000, help="budget, and the baseline's length")
    parser.add_argument("--rates", default=",".join(map(str, RATES)))
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. layers=[20,10]; default: the root config (layers [10,5])")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    cfg = config([f"seed={args.seed}", *args.overrides])
    dataset = load_dataset(cfg)
    X, Y = dataset.train.X, dataset.train.Y
    initial = initialize([X.shape[0], *cfg.layers, 1], cfg.init, make_randomness(cfg.rng, cfg.seed).normal)

    with threadpool_limits(1, user_api="blas"):
        finals = {rate: run(initial, X, Y, "gd", rate, args.epochs, None)[2] for rate in rates}
        base_rate = min((r for r in rates if np.isfinite(finals[r])), key=lambda r: finals[r])
        target = finals[base_rate]
        print(f"football ({X.shape[1]} training examples), layers {list(cfg.layers)}, init {cfg.init}, seed {cfg.seed}, full batch")
        print(f"baseline: gd, learning_rate {base_rate}, {args.epochs} epochs -> target training cost {target:.6f}\n")
        rows = []
        for name in OPTIMIZERS:
            best = None
            for rate in rates:
                epochs, seconds, _ = run(initial, X, Y, name, rate, args.epochs, target)
                if epochs is not None and (best is None or epochs < best[1]):
                    best = (rate, epochs, seconds)
            rows.append((name, best))
    gd_epochs = dict(rows)["gd"][1] if dict(rows)["gd"] else None
    print("| optimizer | best learning_rate | epochs to target | seconds to target | epochs vs gd |")
    print("| --- | --- | --- | --- | --- |")
    for name, best in rows:
        if best is None:
            print(f"| {name} | - | - | - | - |")
            continue
        rate, epochs, seconds = best
        speedup = f"{gd_epochs / epochs:.1f}x fewer" if gd_epochs and epochs else "-"
        print(f"| {name} | {rate} | {epochs} | {seconds:.3f} | {speedup} |")


if __name__ == "__main__":
    main()
