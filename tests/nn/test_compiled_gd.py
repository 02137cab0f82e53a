"""The compiled (numba) kernel: equal to the numpy kernel to ~1e-14, deterministic,
and never used where the course's bits are promised (rng=course)."""
import warnings

import numba
import numpy as np
import pytest
from hydra import compose, initialize_config_dir

from src.config import validate
from src.data import circles
from src.errors import InputError
from src.nn import compiled_gd
from src.nn.compiled_gd import CompiledGD
from src.nn.fit import DivergedError, fit
from src.nn.init import initialize
from src.nn.model import accuracy
from src.nn.schedules import learning_rates
from src.randomness import ModernRandomness
from src.train import initial_params, load_dataset, train, training_options, training_split

from ..test_config_compose import CONF

RTOL = 1e-10  # measured: ~1e-13 after 300 iterations; a wrong term is off by far more


def _engines(dims, X, Y, engines=("numpy", "compiled"), scheme="he", **kwargs):
    results = []
    for engine in engines:
        randomness = ModernRandomness(3)  # the same seed: the same initial weights and masks
        params = initialize(dims, scheme, randomness.normal)
        results.append(fit(params, X, Y, draw_masks=randomness.dropout_masks, engine=engine, **kwargs))
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


def test_compiled_matches_the_general_loop_with_a_schedule():
    data = circles()
    schedule = learning_rates("inverse_time", 0.5, decay_rate=0.01)
    general, compiled = _engines([2, 10, 5, 1], data.train.X, data.train.Y, engines=("numpy", "compiled"),
                                 learning_rate=0.5, num_iterations=250, lr_schedule=schedule, cost_every=100)
    loop = _engines([2, 10, 5, 1], data.train.X, data.train.Y, engines=("numpy",), learning_rate=0.5,
                    num_iterations=250, lr_schedule=schedule, cost_every=100, fast=False)[0]
    _assert_close(compiled, general)
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
        result = fit(params, data.train.X, data.train.Y, learning_rate=0.01, num_iterations=15000, engine="compiled")
    assert all(np.isfinite(result.costs))
    numpy_result = fit(params, data.train.X, data.train.Y, learning_rate=0.01, num_iterations=15000)
    assert accuracy(data.train.X, data.train.Y, result.params) == accuracy(data.train.X, data.train.Y,
                                                                           numpy_result.params)


def test_divergence_is_reported_at_the_same_iteration():
    X = np.array([[1e3, -1e3, 2e3, -2e3]])
    Y = np.array([[1, 0, 0, 1]])
    params = initialize([1, 3, 1], "random", ModernRandomness(0).normal)
    with pytest.raises(DivergedError, match=r"iteration 18\b"):
        fit(params, X, Y, learning_rate=1e6, num_iterations=100, cost_every=1, engine="compiled")


def test_misuse_is_refused():
    data = circles()
    params = initialize([2, 3, 1], "he", ModernRandomness(0).normal)
    with pytest.raises(ValueError, match="engine"):
        fit(params, data.train.X, data.train.Y, learning_rate=0.1, num_iterations=1, engine="numba")
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


def cfg(*overrides):
    with initialize_config_dir(str(CONF), version_base="1.3"):
        return compose("config", ["tracking=false", "dataset=moons", "num_iterations=200", *overrides])


def _engine(c):
    dataset = load_dataset(c)
    return training_options(c, dataset, ModernRandomness(0))["engine"]


def test_train_picks_compiled_for_long_modern_runs_and_numpy_for_course():
    assert _engine(cfg("rng=modern", "num_iterations=20000")) == "compiled"
    # a short run would not repay numba's start-up in a fresh process
    assert _engine(cfg("rng=modern", "num_iterations=19999")) == "numpy"
    assert _engine(cfg("rng=course", "num_iterations=20000")) == "numpy"
    assert _engine(cfg("rng=modern", "engine=numpy")) == "numpy"
    assert _engine(cfg("rng=modern", "engine=compiled")) == "compiled"


def test_course_mode_keeps_the_numpy_bits_end_to_end():
    from src.randomness import make_randomness

    c = cfg("rng=course", "keep_prob=0.8", "lambd=0.1")
    result = train(c)
    # The general loop, which the numpy kernel equals bit for bit (test_fast_gd.py).
    dataset = load_dataset(c)
    randomness = make_randomness("course", c.seed)
    split = training_split(c, dataset)
    expected = fit(initial_params(c, dataset, randomness), split.X, split.Y,
                   learning_rate=c.learning_rate, num_iterations=c.num_iterations, lambd=c.lambd,
                   keep_prob=c.keep_prob, draw_masks=randomness.dropout_masks, cost_every=c.cost_every, fast=False)
    assert all(result.params[k].tobytes() == expected.params[k].tobytes() for k in expected.params)
    assert result.costs == expected.costs


def test_modern_mode_end_to_end_equals_the_numpy_engine():
    compiled = train(cfg("keep_prob=0.8", "lambd=0.1", "engine=compiled"))
    numpy_run = train(cfg("keep_prob=0.8", "lambd=0.1", "engine=numpy"))
    for name in numpy_run.params:
        np.testing.assert_allclose(compiled.params[name], numpy_run.params[name], rtol=RTOL, atol=1e-13)
    assert compiled.metrics["train_accuracy"] == numpy_run.metrics["train_accuracy"]


def test_bad_engine_is_one_clear_error():
    with pytest.raises(InputError, match=r"^engine: unknown engine 'numba' \(choose from auto, numpy, compiled\)"):
        validate(cfg("engine=numba"))


def test_course_seeding_on_the_compiled_kernel_keeps_the_published_accuracy():
    # An explicit opt-in: the course's seeds and masks, compiled arithmetic (not the course's bits).
    with initialize_config_dir(str(CONF), version_base="1.3"):
        c = compose("config", ["experiment=course_init", "init=he", "engine=compiled", "tracking=false"])
    assert training_options(c, load_dataset(c), ModernRandomness(0))["engine"] == "compiled"
    metrics = train(c).metrics
    assert (round(metrics["train_accuracy"], 4), round(metrics["test_accuracy"], 4)) == (0.9933, 0.96)
