import warnings

import numpy as np
import pytest

from src.data.datasets import circles
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


# -- issue 8: optimizers, mini-batches, decay, early stopping ------------------------

from src.nn.fit import EarlyStopping, batches  # noqa: E402
from src.nn.model import backward, cost, forward  # noqa: E402
from src.nn.schedules import learning_rates  # noqa: E402


def course_loop(params, X, Y, learning_rate, num_iterations, rates=None):
    """The course's loop, written out: forward, backward, W -= lr dW."""
    params = {k: v.copy() for k, v in params.items()}
    for i in range(num_iterations):
        ZL, caches = forward(X, params)
        grads = backward(ZL, Y, caches)
        lr = learning_rate if rates is None else rates(i)
        for name, g in grads.items():
            params[name] -= lr * g
    return params


def test_default_fit_is_the_course_loop_bit_for_bit():
    data = circles()
    params = initialize([2, 10, 5, 1], "he", CourseRandomness(3).normal)
    expected = course_loop(params, data.train.X, data.train.Y, 0.01, 300)
    for result in (
        fit(params, data.train.X, data.train.Y, learning_rate=0.01, num_iterations=300),
        fit(params, data.train.X, data.train.Y, learning_rate=0.01, num_iterations=300, optimizer="gd",
            batch_size=300, lr_schedule=learning_rates("none", 0.01)),
    ):
        assert all(np.array_equal(result.params[k], expected[k]) for k in expected)


def test_lr_schedule_sets_each_epochs_rate():
    data = circles()
    params = initialize([2, 4, 1], "he", ModernRandomness(0).normal)
    rates = learning_rates("inverse_time", 0.5, decay_rate=0.1)
    expected = course_loop(params, data.train.X, data.train.Y, None, 50, rates)
    result = fit(params, data.train.X, data.train.Y, learning_rate=0.5, num_iterations=50, lr_schedule=rates)
    assert all(np.array_equal(result.params[k], expected[k]) for k in expected)


def test_batches_cover_every_example_once_with_a_smaller_last_batch():
    order = np.random.default_rng(0).permutation(10)
    parts = list(batches(10, 4, order))
    assert [len(p) for p in parts] == [4, 4, 2]
    assert sorted(np.concatenate(parts)) == list(range(10))
    assert list(batches(10, None, None)) == [slice(None)]


def test_course_shuffle_is_the_assignments_reseeded_permutation():
    # random_mini_batches(X, Y, 64, seed) after model() does seed = seed + 1 each epoch
    state = np.random.get_state()
    try:
        np.random.seed(11)
        expected = np.random.permutation(50)
    finally:
        np.random.set_state(state)
    before = np.random.get_state()[1].copy()
    # week 2: the weights from seed 3, the mini-batches from the course's own seed = 10
    assert np.array_equal(CourseRandomness(3, shuffle_seed=10).shuffle(0, 50), expected)
    assert np.array_equal(np.random.get_state()[1], before)  # global state untouched
    # without a shuffle seed the run's seed stands in (week 1 had no mini-batches)
    assert np.array_equal(CourseRandomness(10).shuffle(0, 50), expected)


def course_mini_batches(X, Y, size, seed):
    """The notebook's random_mini_batches(X, Y, size, seed): np.random.seed(seed), permutation(m)."""
    order = np.random.RandomState(seed).permutation(X.shape[1])
    return [(X[:, cols], Y[:, cols]) for cols in batches(X.shape[1], size, order)]


def test_mini_batches_are_the_notebooks():
    # random_mini_batches_test: np.random.seed(1); X = randn(5, 7); Y = randn(1, 7) < 0.5; size 2, seed 0
    state = np.random.RandomState(1)
    X, Y = state.randn(5, 7), state.randn(1, 7) < 0.5
    got = course_mini_batches(X, Y, 2, 0)
    assert [b[0].shape[1] for b in got] == [2, 2, 2, 1]
    np.testing.assert_allclose(got[0][0][:, 0], [1.74481176, -0.38405435, -1.10061918, -0.93576943, -0.67124613])
    np.testing.assert_allclose(got[3][0][:, 0], [0.86540763, -2.06014071, 0.04221375, -0.68372786, -0.6871727])
    assert [b[1].tolist() for b in got] == [[[True, True]], [[True, False]], [[True, True]], [[False]]]


def test_large_mini_batches_are_the_notebooks():
    # random_mini_batches_test_case: np.random.seed(1); X = randn(12288, 148); size 64
    state = np.random.RandomState(1)
    X, Y = state.randn(12288, 148), state.randn(1, 148) < 0.5
    got = course_mini_batches(X, Y, 64, 0)
    assert [b[0].shape for b in got] == [(12288, 64), (12288, 64), (12288, 20)]
    np.testing.assert_allclose(got[0][0][0][0:3], [0.90085595, -0.7612069, 0.2344157])


def test_mini_batch_epoch_cost_is_the_full_objective_when_params_stand_still():
    data = circles()
    X, Y = data.train.X, data.train.Y
    params = initialize([2, 6, 1], "he", ModernRandomness(2).normal)
    randomness = ModernRandomness(5)
    full = fit(params, X, Y, learning_rate=1e-300, num_iterations=1, lambd=0.7)
    mini = fit(params, X, Y, learning_rate=1e-300, num_iterations=1, lambd=0.7, batch_size=64, shuffle=randomness.shuffle)
    assert mini.costs[0] == pytest.approx(full.costs[0], rel=1e-12)
    assert mini.costs[0] == pytest.approx(cost(forward(X, params)[0], Y, params, 0.7), rel=1e-12)


def test_mini_batch_adam_trains_and_is_reproducible():
    data = circles()
    runs = []
    for _ in range(2):
        randomness = ModernRandomness(1)
        params = initialize([2, 10, 5, 1], "he", randomness.normal)
        runs.append(fit(params, data.train.X, data.train.Y, learning_rate=0.01, num_iterations=300, optimizer="adam",
                        batch_size=64, shuffle=randomness.shuffle, cost_every=50))
    assert runs[0].costs == runs[1].costs
    assert accuracy(data.train.X, data.train.Y, runs[0].params) > 0.9
    with pytest.raises(ValueError, match="shuffle"):
        fit(params, data.train.X, data.train.Y, learning_rate=0.01, num_iterations=1, batch_size=64)


def test_early_stopping_restores_the_best_params_and_reports_when():
    data = circles()
    X, Y = data.train.X, data.train.Y
    params = initialize([2, 10, 5, 1], "he", ModernRandomness(3).normal)
    seen = {}

    def score(p):  # improves for a while, then gets worse: best after 200 epochs
        epoch = len(seen) * 50
        seen[epoch] = p
        return abs(epoch - 200)

    rule = EarlyStopping(score, patience=100, every=50)
    result = fit(params, X, Y, learning_rate=0.1, num_iterations=10_000, cost_every=50, early_stopping=rule)
    assert result.stopped_early and result.best_iteration == 200
    assert result.score_steps == [0, 50, 100, 150, 200, 250, 300]
    assert result.params is seen[200]
    assert result.cost_steps[-1] == 300  # the curve ends where training stopped
    unstopped = fit(params, X, Y, learning_rate=0.1, num_iterations=200)
    assert all(np.array_equal(result.params[k], unstopped.params[k]) for k in params)


def test_early_stopping_min_delta_and_the_end_of_training():
    data = circles()
    params = initialize([2, 4, 1], "he", ModernRandomness(3).normal)
    scores = iter([1.0, 0.99, 0.98, 0.5])

    rule = EarlyStopping(lambda p: next(scores), patience=1000, min_delta=0.05, every=10)
    result = fit(params, data.train.X, data.train.Y, learning_rate=0.1, num_iterations=30, early_stopping=rule)
    # 0.99 and 0.98 are not better by more than 0.05; the check after the last epoch (30) is
    assert not result.stopped_early and result.best_iteration == 30 and result.score_steps == [0, 10, 20, 30]
    off = fit(params, data.train.X, data.train.Y, learning_rate=0.1, num_iterations=30,
              early_stopping=EarlyStopping(lambda p: 0.0, patience=0))
    assert off.best_iteration is None and not off.stopped_early


def test_divergence_error_survives_pickling_to_a_sweep_worker():
    import pickle

    error = pickle.loads(pickle.dumps(DivergedError(18, float("nan"))))
    assert isinstance(error, DivergedError) and error.iteration == 18
    assert "iteration 18" in str(error) and "lower learning_rate" in str(error)


@pytest.mark.parametrize("cost_every, num_iterations", [(100, 15000), (100, 1), (7, 50), (50, 50), (1, 5), (3, 2)])
def test_recorded_epochs_are_the_epochs_recorded_picks(cost_every, num_iterations):
    from src.nn.fit import recorded, recorded_epochs

    expected = [epoch for epoch in range(num_iterations) if recorded(epoch, cost_every, num_iterations)]
    assert recorded_epochs(cost_every, num_iterations) == expected


@pytest.mark.parametrize("name", ["gd", "momentum", "rmsprop", "adam"])
def test_every_update_rule_gives_the_bits_of_an_array_by_array_loop(name):
    """fit runs an update rule once over all the parameters as one vector; the rules
    are elementwise, so that must equal calling it on the network's own arrays."""
    from src.nn.optimizers import OPTIMIZERS

    data = circles()
    X, Y = data.train.X, data.train.Y
    randomness = CourseRandomness(3, shuffle_seed=10)
    params = initialize([2, 6, 4, 1], "he", randomness.normal)
    opt = OPTIMIZERS[name]
    expected, state = {k: v.copy() for k, v in params.items()}, opt.init(params)
    for epoch in range(20):
        for columns in batches(X.shape[1], 64, randomness.shuffle(epoch, X.shape[1])):
            ZL, caches = forward(X[:, columns], expected)
            grads = backward(ZL, Y[:, columns], caches, 0.1 * len(columns) / X.shape[1])
            expected, state = opt.update(expected, grads, state, 0.01, **opt.hyper)
    result = fit(params, X, Y, learning_rate=0.01, num_iterations=20, lambd=0.1, optimizer=name,
                 optimizer_options=opt.hyper, batch_size=64, shuffle=randomness.shuffle)
    assert all(np.array_equal(result.params[k], expected[k]) for k in expected)
