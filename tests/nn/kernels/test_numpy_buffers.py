"""The numpy kernel (FullBatchGD) must give the very bits of the reference loop."""
import numpy as np
import pytest

from src.data.datasets import circles, football
from src.nn import kernels
from src.nn.fit import fit
from src.nn.init import initialize
from src.nn.schedules import learning_rates
from src.randomness import CourseRandomness, ModernRandomness


def _both(dims, scheme, rng_cls, data, **kwargs):
    results = []
    for train in (kernels.fit, fit):  # the numpy kernel, then the reference loop
        randomness = rng_cls(3)
        params = initialize(dims, scheme, randomness.normal)
        results.append(train(params, data.train.X, data.train.Y, draw_masks=randomness.dropout_masks, **kwargs))
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


def test_kernels_fit_runs_a_kernel_only_in_the_course_case(monkeypatch):
    import src.nn.kernels as module

    used = []
    real = module.FullBatchGD
    monkeypatch.setattr(module, "FullBatchGD", lambda *a, **k: used.append(1) or real(*a, **k))
    data = circles()
    randomness = ModernRandomness(3)
    params = initialize([2, 5, 1], "he", randomness.normal)
    shuffle = lambda epoch, m: np.random.default_rng(epoch).permutation(m)  # noqa: E731 (the same order twice)
    common = dict(learning_rate=0.1, num_iterations=20, shuffle=shuffle)
    kernels.fit(params, data.train.X, data.train.Y, **common)
    assert used == [1]
    for other in ({"optimizer": "adam"}, {"batch_size": 64}, {"optimizer_options": {"beta": 0.5}, "optimizer": "momentum"}):
        reference = fit(params, data.train.X, data.train.Y, **common, **other)
        via = kernels.fit(params, data.train.X, data.train.Y, **common, **other)
        assert used == [1], other  # not the kernel: fit itself
        assert all(np.array_equal(reference.params[k], via.params[k]) for k in reference.params)


class _Stop(Exception):
    pass


@pytest.mark.parametrize("engine", kernels.ENGINES)
def test_a_long_run_takes_no_memory_by_its_length_before_training(engine):
    """A run of 10**7 iterations must start at once: its every rate up front (80 MB) held
    off the signal that stops a sweep's job when its launcher dies for seconds."""
    import tracemalloc

    data = circles()
    params = initialize([2, 5, 1], "he", ModernRandomness(3).normal)

    def stop(epoch, cost):
        raise _Stop  # the first recorded cost: training has begun

    tracemalloc.start()
    try:
        with pytest.raises(_Stop):
            kernels.fit(params, data.train.X, data.train.Y, engine=engine, learning_rate=0.1,
                        num_iterations=10**7, cost_every=1000, on_cost=stop)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10**7, f"{peak / 1e6:.0f} MB before the first iteration"
