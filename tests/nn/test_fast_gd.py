"""The fast full-batch loop must give the very bits of the general loop."""
import numpy as np
import pytest

from src.data import circles, football
from src.nn.fit import fit
from src.nn.init import initialize
from src.nn.schedules import learning_rates
from src.randomness import CourseRandomness, ModernRandomness


def _both(dims, scheme, rng_cls, data, **kwargs):
    results = []
    for fast in (True, False):
        randomness = rng_cls(3)
        params = initialize(dims, scheme, randomness.normal)
        results.append(fit(params, data.train.X, data.train.Y, draw_masks=randomness.dropout_masks,
                           fast=fast, **kwargs))
    return results


@pytest.mark.parametrize("rng_cls", [CourseRandomness, ModernRandomness])
@pytest.mark.parametrize(
    "options",
    [{}, {"lambd": 0.7}, {"keep_prob": 0.86}, {"lambd": 0.3, "keep_prob": 0.7}],
    ids=["baseline", "l2", "dropout", "l2+dropout"],
)
@pytest.mark.parametrize("dims, scheme", [([2, 20, 3, 1], "xavier"), ([2, 10, 5, 1], "he"), ([2, 7, 1], "random"),
                                          ([2, 9, 8, 7, 6, 5, 1], "glorot"), ([2, 4, 1], "zeros")])
def test_fast_and_general_loops_are_bit_identical(rng_cls, options, dims, scheme):
    fast, general = _both(dims, scheme, rng_cls, circles(), learning_rate=0.3, num_iterations=300, cost_every=50,
                          **options)
    assert fast.params.keys() == general.params.keys()
    for name in fast.params:
        assert fast.params[name].tobytes() == general.params[name].tobytes(), name
    assert fast.cost_steps == general.cost_steps
    assert fast.costs == general.costs


def test_bit_identical_with_a_learning_rate_schedule():
    schedule = learning_rates("inverse_time", 0.5, decay_rate=0.01)
    fast, general = _both([2, 20, 3, 1], "he", ModernRandomness, football(), learning_rate=0.5,
                          num_iterations=200, lr_schedule=schedule)
    for name in fast.params:
        assert np.array_equal(fast.params[name], general.params[name])
