"""The compiled (numba) kernel: equal to the numpy kernel to ~1e-13, deterministic.
(Where the recipe uses it, and where it never does: tests/test_recipe.py.)"""
import warnings

import numba
import numpy as np
import pytest

from src.data.datasets import circles
from src.nn import kernels
from src.nn.errors import DivergedError
from src.nn.fit import fit
from src.nn.init import initialize
from src.nn.kernels import compiled as compiled_gd
from src.nn.kernels.compiled import CompiledGD
from src.nn.model import accuracy
from src.nn.schedules import learning_rates
from src.randomness import ModernRandomness

RTOL = 1e-10  # measured: ~1e-13 after 300 iterations; a wrong term is off by far more


def _engines(dims, X, Y, engines=("numpy", "compiled"), scheme="he", **kwargs):
    results = []
    for engine in engines:
        randomness = ModernRandomness(3)  # the same seed: the same initial weights and masks
        params = initialize(dims, scheme, randomness.normal)
        results.append(kernels.fit(params, X, Y, draw_masks=randomness.dropout_masks, engine=engine, **kwargs))
    return results


def _assert_close(a, b, rtol=RTOL):
    assert a.params.keys() == b.params.keys()
    for name in a.params:
        np.testing.assert_allclose(a.params[name], b.params[name], rtol=rtol, atol=1e-13, err_msg=name)
    assert a.cost_steps == b.cost_steps
    np.testing.assert_allclose(a.costs, b.costs, rtol=rtol)


@pytest.mark.parametrize("m", [1, 7, 211])
@pytest.mark.parametrize(
    "options",
    [{}, {"lambd": 0.7}, {"keep_prob": 0.86}, {"lambd": 0.3, "keep_prob": 0.7}],
    ids=["baseline", "l2", "dropout", "l2+dropout"],
)
@pytest.mark.parametrize("dims", [[2, 7, 1], [2, 20, 3, 1], [2, 9, 8, 7, 1]], ids=["1 hidden", "2 hidden", "3 hidden"])
def test_compiled_matches_the_numpy_kernel(dims, options, m):
    data = circles()
    X, Y = data.train.X[:, :m], data.train.Y[:, :m]
    numpy_kernel, compiled = _engines(dims, X, Y, learning_rate=0.3, num_iterations=300, cost_every=40, **options)
    _assert_close(compiled, numpy_kernel)
    assert compiled.cost_steps == [0, 40, 80, 120, 160, 200, 240, 280, 299]


def test_compiled_matches_the_reference_loop_with_a_schedule():
    data = circles()
    schedule = learning_rates("inverse_time", 0.5, decay_rate=0.01)
    numpy_kernel, compiled = _engines([2, 10, 5, 1], data.train.X, data.train.Y, engines=("numpy", "compiled"),
                                      learning_rate=0.5, num_iterations=250, lr_schedule=schedule, cost_every=100)
    params = initialize([2, 10, 5, 1], "he", ModernRandomness(3).normal)
    loop = fit(params, data.train.X, data.train.Y, learning_rate=0.5, num_iterations=250, lr_schedule=schedule,
               cost_every=100)
    _assert_close(compiled, numpy_kernel)
    _assert_close(compiled, loop)


def test_a_wrong_learning_rate_is_caught():
    # The tolerance is tight enough to see a 1e-9 change of one hyperparameter.
    data = circles()
    a = _engines([2, 20, 3, 1], data.train.X, data.train.Y, engines=("numpy",), learning_rate=0.3, num_iterations=300)[0]
    b = _engines([2, 20, 3, 1], data.train.X, data.train.Y, engines=("compiled",), learning_rate=0.3 * (1 + 1e-9),
                 num_iterations=300)[0]
    with pytest.raises(AssertionError):
        _assert_close(a, b)


@pytest.mark.parametrize("keep_prob", [1.0, 0.8])
def test_compiled_is_deterministic(keep_prob):
    data = circles()
    a, b = _engines([2, 20, 3, 1], data.train.X, data.train.Y, engines=("compiled", "compiled"), learning_rate=0.3,
                    num_iterations=500, lambd=0.2, keep_prob=keep_prob)
    assert all(a.params[k].tobytes() == b.params[k].tobytes() for k in a.params)
    assert a.costs == b.costs


def test_random_init_trains_15000_iterations_warning_free_as_numpy_does():
    data = circles()
    params = initialize([2, 10, 5, 1], "random", ModernRandomness(3).normal)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = kernels.fit(params, data.train.X, data.train.Y, learning_rate=0.01, num_iterations=15000, engine="compiled")
    assert all(np.isfinite(result.costs))
    numpy_result = fit(params, data.train.X, data.train.Y, learning_rate=0.01, num_iterations=15000)
    assert accuracy(data.train.X, data.train.Y, result.params) == accuracy(data.train.X, data.train.Y,
                                                                           numpy_result.params)


def test_divergence_is_reported_at_the_same_iteration():
    X = np.array([[1e3, -1e3, 2e3, -2e3]])
    Y = np.array([[1, 0, 0, 1]])
    params = initialize([1, 3, 1], "random", ModernRandomness(0).normal)
    with pytest.raises(DivergedError, match=r"iteration 18\b"):
        kernels.fit(params, X, Y, learning_rate=1e6, num_iterations=100, cost_every=1, engine="compiled")


def test_misuse_is_refused():
    data = circles()
    params = initialize([2, 3, 1], "he", ModernRandomness(0).normal)
    with pytest.raises(ValueError, match="engine"):
        kernels.fit(params, data.train.X, data.train.Y, learning_rate=0.1, num_iterations=1, engine="numba")
    kernel = CompiledGD(params, data.train.X, data.train.Y, 0.0, 0.5)
    with pytest.raises(ValueError, match="masks"):
        kernel.step(0.1)
    with pytest.raises(ValueError, match="masks"):
        kernel.run(np.full(3, 0.1))


def test_without_a_writable_cache_dir_it_compiles_in_process(monkeypatch):
    # No cache locator applies (as with a read-only install and home): numba
    # refuses cache=True; the kernel must still be made, uncached.
    monkeypatch.setattr(numba.core.config, "CACHE_LOCATOR_CLASSES", "IPythonCacheLocator", raising=True)

    def twice(x):
        return 2.0 * x

    with pytest.raises(RuntimeError, match="no locator"):
        numba.njit(cache=True)(twice)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        jitted = compiled_gd._jit()(twice)
        assert jitted(1.5) == 3.0
    assert type(jitted._cache).__name__ == "NullCache"  # nothing is written anywhere
