import warnings

import numpy as np
import pytest

from src.data import circles
from src.nn.fit import DivergedError, fit
from src.nn.init import initialize
from src.nn.model import accuracy
from src.randomness import CourseRandomness, ModernRandomness


def test_random_init_trains_15000_iterations_without_runtime_warnings():
    data = circles()
    params = initialize([2, 10, 5, 1], "random", CourseRandomness(3).normal)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = fit(params, data.train.X, data.train.Y, learning_rate=0.01, num_iterations=15000)
    assert all(np.isfinite(result.costs))
    assert accuracy(data.train.X, data.train.Y, result.params) == pytest.approx(0.83)


def test_fit_leaves_the_initial_params_untouched_and_records_costs():
    data = circles()
    params = initialize([2, 4, 1], "he", ModernRandomness(0).normal)
    before = {k: v.copy() for k, v in params.items()}
    result = fit(params, data.train.X, data.train.Y, learning_rate=0.1, num_iterations=250, cost_every=100)
    assert all(np.array_equal(before[k], params[k]) for k in params)
    assert result.cost_steps == [0, 100, 200, 249]
    assert result.costs[-1] < result.costs[0]


def test_l2_and_dropout_together():
    data = circles()
    randomness = ModernRandomness(1)
    params = initialize([2, 10, 5, 1], "he", randomness.normal)
    result = fit(params, data.train.X, data.train.Y, learning_rate=0.3, num_iterations=3000,
                 lambd=0.1, keep_prob=0.8, draw_masks=randomness.dropout_masks)
    assert accuracy(data.train.X, data.train.Y, result.params) > 0.9


def test_divergence_stops_with_the_iteration_and_a_hint():
    X = np.array([[1e3, -1e3, 2e3, -2e3]])
    Y = np.array([[1, 0, 0, 1]])
    params = initialize([1, 3, 1], "random", ModernRandomness(0).normal)
    # overflow warnings on the way to NaN are genuine; the error is what matters
    with warnings.catch_warnings(), pytest.raises(DivergedError, match=r"iteration 18\b.*lower learning_rate"):
        warnings.simplefilter("ignore", RuntimeWarning)
        fit(params, X, Y, learning_rate=1e6, num_iterations=100, cost_every=1)
