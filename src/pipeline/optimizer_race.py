"""Optimizer race: epochs to a target training cost for gd / momentum / rmsprop / adam.

    python -m src.pipeline.optimizer_race OUT.json OUT.png      (stage ``optimizer_race``)

Settings (conf/studies.yaml ``optimizers``): Hydra ``overrides`` for the data and
the net, the epoch ``budget`` and the learning-rate grid ``rates``. The target is
the baseline's final training cost: plain full-batch gradient descent after
``budget`` epochs at its best rate of the grid (the lowest final cost). Every
optimizer then trains from the same initial weights at every rate of the same
grid until its cost first reaches the target; its best rate is the one that gets
there in the fewest epochs. The cost is computed every epoch, so "epochs to
target" is exact. Wall time is left out of the record (it is not reproducible);
``bench/optimizers_bench.py`` prints it.
"""
from __future__ import annotations

import time

import numpy as np

from ..cli import arguments, report_errors
from ..errors import InputError
from ..io import atomic_write_json
from .. import recipe
from ..nn import kernels
from ..nn.fit import DivergedError
from ..nn.optimizers import OPTIMIZERS
from ..config import run_config
from . import parallel
from .common import settings


class _Reached(Exception):
    def __init__(self, epoch: int):
        self.epoch = epoch


def _train(initial, X, Y, optimizer: str, rate: float, budget: int, target: float | None):
    """(epoch the target was first reached or None, costs per epoch, final cost or nan if it diverged)."""
    costs: list[float] = []

    def watch(epoch: int, value: float) -> None:
        costs.append(value)
        if target is not None and value <= target:
            raise _Reached(epoch)

    try:
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging rate is an outcome here, not an error
            kernels.fit(initial, X, Y, learning_rate=rate, num_iterations=budget, cost_every=1, on_cost=watch,
                        optimizer=optimizer, optimizer_options=OPTIMIZERS[optimizer].hyper, engine="numpy")
    except _Reached as reached:
        return reached.epoch, costs, costs[-1]
    except DivergedError:
        return None, costs, float("nan")
    return None, costs, costs[-1]


def _timed_train(*args) -> tuple:
    """``_train``'s result and its wall seconds (``parallel.starmap`` gives it one BLAS thread)."""
    start = time.perf_counter()
    result = _train(*args)
    return (*result, time.perf_counter() - start)


def run(overrides: list[str], budget: int, rates: list[float]) -> tuple[dict, dict[str, list[float]], dict[str, float]]:
    """(record, cost curve of each optimizer at its best rate up to the target, seconds to target)."""
    config = run_config(overrides)
    dataset = recipe.load_dataset(config)
    X, Y = dataset.train.X, dataset.train.Y
    initial = recipe.initial_params(config, dataset)
    baseline = parallel.starmap(_timed_train, [(initial, X, Y, "gd", rate, budget, None) for rate in rates])
    finals = {rate: final for rate, (_, _, final, _) in zip(rates, baseline)}
    finite = [rate for rate in rates if np.isfinite(finals[rate])]
    if not finite:
        raise InputError("studies.optimizers.rates: plain gd diverges at every rate of the grid")
    base_rate = min(finite, key=lambda rate: finals[rate])
    target = finals[base_rate]
    races = iter(parallel.starmap(_timed_train, [(initial, X, Y, name, rate, budget, target)
                                                 for name in OPTIMIZERS for rate in rates]))
    optimizers, curves, seconds = {}, {}, {}
    for name in OPTIMIZERS:
        by_rate, best = {}, None
        for rate in rates:
            epoch, costs, final, elapsed = next(races)
            # the epoch index at which the cost first reached the target, + 1 = epochs trained
            epochs = None if epoch is None else epoch + 1
            by_rate[str(rate)] = epochs if epochs is not None else ("diverged" if np.isnan(final) else "not reached")
            if epochs is not None and (best is None or epochs < best[1]):
                best, curves[name], seconds[name] = (rate, epochs), costs, elapsed
        optimizers[name] = {
            "best_rate": best[0] if best else None,
            "epochs_to_target": best[1] if best else None,
            "by_rate": by_rate,
        }
    gd = optimizers["gd"]["epochs_to_target"]
    for entry in optimizers.values():
        ours = entry["epochs_to_target"]
        entry["fewer_epochs_than_gd"] = round(gd / ours, 3) if gd and ours else None
    record = {
        "dataset": dataset.name,
        "overrides": overrides,
        "layers": list(config.layers),
        "init": config.init,
        "seed": config.seed,
        "training_examples": int(X.shape[1]),
        "budget": budget,
        "rates": rates,
        "baseline": {"optimizer": "gd", "learning_rate": base_rate, "epochs": budget, "target_cost": round(float(target), 12)},
        "order": list(OPTIMIZERS),  # the JSON file sorts its keys; the report keeps this order
        "optimizers": optimizers,
        "hyper": {name: OPTIMIZERS[name].hyper for name in OPTIMIZERS},
    }
    return record, curves, seconds


def plot(curves: dict[str, list[float]], record: dict, path) -> None:
    from .. import plots

    labels = {name: f"{name} (lr {record['optimizers'][name]['best_rate']}, {record['optimizers'][name]['epochs_to_target']} epochs)"
              for name in curves}
    plots.curves({labels[n]: c for n, c in curves.items()}, path, target=record["baseline"]["target_cost"],
                 title="Training cost to the gd baseline's final cost (football)", xlabel="epoch", ylabel="training cost",
                 logx=True)


@report_errors
def main(argv: list[str] | None = None) -> None:
    argv = arguments(argv, 2, "python -m src.pipeline.optimizer_race OUT.json OUT.png")
    s = settings("optimizers")
    record, curves, _ = run(list(s["overrides"]), int(s["budget"]), [float(r) for r in s["rates"]])
    plot(curves, record, argv[1])
    atomic_write_json(argv[0], record)
    print("optimizers: epochs to target " + ", ".join(
        f"{n} {e['epochs_to_target']}" for n, e in record["optimizers"].items()))


if __name__ == "__main__":
    main()
