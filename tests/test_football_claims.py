"""Issue 8's measured claims on football, kept true by tests (numbers: bench/*.py).

- Adam reaches full-batch gradient descent's final training cost in at least 5x
  fewer epochs (gd at 0.3, the best rate of the bench's grid; Adam at 0.01).
- Early stopping on the dev split beats training to the end on dev accuracy
  for the net that overfits football.
"""
from __future__ import annotations

import pytest
from hydra import compose, initialize_config_dir
from threadpoolctl import threadpool_limits

from src.nn.fit import fit
from src.nn.init import initialize
from src.randomness import make_randomness
from src.train import load_dataset, train

from .test_config_compose import CONF


def cfg(*overrides):
    with initialize_config_dir(str(CONF), version_base="1.3"):
        return compose("config", ["dataset=football", "tracking=false", *overrides])


class Reached(Exception):
    pass


def epochs_to(target, initial, X, Y, optimizer, rate, budget):
    reached = []

    def check(epoch, value):
        if value <= target:
            reached.append(epoch)
            raise Reached

    with pytest.raises(Reached):
        fit(initial, X, Y, learning_rate=rate, num_iterations=budget, cost_every=1, on_cost=check, optimizer=optimizer)
    return reached[0]


def test_adam_reaches_gds_final_cost_in_5x_fewer_epochs():
    c = cfg("seed=3")
    data = load_dataset(c)
    X, Y = data.train.X, data.train.Y
    initial = initialize([X.shape[0], *c.layers, 1], "he", make_randomness("modern", 3).normal)
    budget = 10_000
    with threadpool_limits(1, user_api="blas"):
        target = fit(initial, X, Y, learning_rate=0.3, num_iterations=budget, cost_every=budget).costs[-1]
        gd = epochs_to(target, initial, X, Y, "gd", 0.3, budget)
        adam = epochs_to(target, initial, X, Y, "adam", 0.01, budget)
    assert gd >= 5 * adam, (gd, adam)


def test_early_stopping_improves_dev_accuracy_on_the_overfitting_net():
    overfit = ["layers=[20,3]", "init=xavier", "learning_rate=0.3", "num_iterations=10000", "seed=3"]
    end = train(cfg(*overfit)).metrics
    stopped = train(cfg(*overfit, "early_stopping.patience=1000")).metrics
    assert end["train_accuracy"] - end["dev_accuracy"] > 0.1  # it does overfit
    assert stopped["stopped_early"] == 1.0 and stopped["best_iteration"] < 10000
    assert stopped["dev_accuracy"] > end["dev_accuracy"] + 0.03
