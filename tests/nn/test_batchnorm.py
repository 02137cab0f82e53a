import numpy as np
import pytest

from src.nn.batchnorm import (
    batchnorm_backward, batchnorm_forward_eval, batchnorm_forward_train, update_running,
)
from tests.nn.test_layers import _numeric, _rel

rng = np.random.default_rng(1)


def _layer(n=4, m=10):
    Z = rng.standard_normal((n, m)) * 3 + 5
    gamma = rng.standard_normal((n, 1))
    beta = rng.standard_normal((n, 1))
    return Z, gamma, beta


def test_training_output_has_mean_beta_and_std_gamma():
    Z, gamma, beta = _layer(m=200)
    out, _, (mu, var) = batchnorm_forward_train(Z, gamma, beta, epsilon=0.0)
    np.testing.assert_allclose(out.mean(axis=1, keepdims=True), beta, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=1, keepdims=True), np.abs(gamma), rtol=1e-10)
    np.testing.assert_allclose(mu, Z.mean(axis=1, keepdims=True))
    np.testing.assert_allclose(var, Z.var(axis=1, keepdims=True))


def test_epsilon_keeps_a_constant_unit_finite():
    Z = np.ones((2, 5))
    out, cache, _ = batchnorm_forward_train(Z, np.ones((2, 1)), np.zeros((2, 1)))
    assert np.all(out == 0)
    assert np.all(np.isfinite(batchnorm_backward(np.ones((2, 5)), cache)[0]))


def test_a_bias_before_batch_norm_cancels():
    Z, gamma, beta = _layer()
    shifted = batchnorm_forward_train(Z + rng.standard_normal((4, 1)), gamma, beta)[0]
    np.testing.assert_allclose(shifted, batchnorm_forward_train(Z, gamma, beta)[0], atol=1e-12)


@pytest.mark.parametrize("m", [3, 10, 64])
def test_training_backward_matches_finite_differences(m):
    Z, gamma, beta = _layer(m=m)
    dout = rng.standard_normal(Z.shape)
    _, cache, _ = batchnorm_forward_train(Z, gamma, beta)
    dZ, dgamma, dbeta = batchnorm_backward(dout, cache)
    loss = lambda: float(np.sum(batchnorm_forward_train(Z, gamma, beta)[0] * dout))  # noqa: E731
    assert _rel(dZ, _numeric(loss, Z)) < 1e-7
    assert _rel(dgamma, _numeric(loss, gamma)) < 1e-8
    assert _rel(dbeta, _numeric(loss, beta)) < 1e-8


def test_eval_backward_matches_finite_differences():
    Z, gamma, beta = _layer()
    mean, var = rng.standard_normal((4, 1)), rng.random((4, 1)) + 0.5
    dout = rng.standard_normal(Z.shape)
    _, cache = batchnorm_forward_eval(Z, gamma, beta, mean, var)
    dZ, dgamma, dbeta = batchnorm_backward(dout, cache)
    loss = lambda: float(np.sum(batchnorm_forward_eval(Z, gamma, beta, mean, var)[0] * dout))  # noqa: E731
    assert _rel(dZ, _numeric(loss, Z)) < 1e-8
    assert _rel(dgamma, _numeric(loss, gamma)) < 1e-8
    assert _rel(dbeta, _numeric(loss, beta)) < 1e-8


def test_eval_is_columnwise_and_matches_training_on_the_same_statistics():
    Z, gamma, beta = _layer(m=30)
    train_out, _, (mu, var) = batchnorm_forward_train(Z, gamma, beta)
    eval_out, _ = batchnorm_forward_eval(Z, gamma, beta, mu, var)
    np.testing.assert_allclose(eval_out, train_out, atol=1e-12)
    alone, _ = batchnorm_forward_eval(Z[:, 7:8], gamma, beta, mu, var)
    np.testing.assert_array_equal(alone, eval_out[:, 7:8])


def test_running_average_converges_to_the_batch_statistics():
    running = np.zeros((3, 1))
    target = np.array([[1.0], [-2.0], [0.5]])
    for _ in range(200):
        running = update_running(running, target, momentum=0.9)
    np.testing.assert_allclose(running, target, rtol=1e-8)
    np.testing.assert_allclose(update_running(np.zeros((1, 1)), np.ones((1, 1)), 0.9), [[0.1]])


# --- batch norm in the network (src/nn/model.py, fit.py, network_check.py) ------------------

from threadpoolctl import threadpool_limits  # noqa: E402

from src.data import datasets  # noqa: E402
from src.nn.network_check import check_model  # noqa: E402
from src.nn import model  # noqa: E402
from src.nn.fit import fit  # noqa: E402
from src.nn.init import INITIALIZERS, initialize  # noqa: E402
from src.randomness import ModernRandomness  # noqa: E402


def _bn_net(dims, scheme="he", seed=0):
    return model.add_batch_norm(initialize(dims, scheme, ModernRandomness(seed).normal))


def test_add_batch_norm_replaces_hidden_biases_by_gamma_beta_and_keeps_weights():
    plain = initialize([4, 6, 5, 3], "he", ModernRandomness(0).normal)
    bn = model.add_batch_norm(plain, epsilon=1e-3)
    assert "b1" not in bn and "b2" not in bn and "b3" in bn
    for l, n in ((1, 6), (2, 5)):
        np.testing.assert_array_equal(bn[f"W{l}"], plain[f"W{l}"])
        np.testing.assert_array_equal(bn[f"gamma{l}"], np.ones((n, 1)))
        np.testing.assert_array_equal(bn[f"beta{l}"], np.zeros((n, 1)))
        np.testing.assert_array_equal(bn[f"running_var{l}"], np.ones((n, 1)))
    assert float(bn["bn_epsilon"]) == 1e-3
    assert model.num_layers(bn) == 3 and model.layer_dims(bn) == [4, 6, 5, 3]
    assert set(model.trainable(bn)) == {"W1", "gamma1", "beta1", "W2", "gamma2", "beta2", "W3", "b3"}


@pytest.mark.parametrize("scheme", sorted(INITIALIZERS))
@pytest.mark.parametrize("classes", [2, 3])  # sigmoid and softmax output
def test_batch_norm_model_passes_the_gradient_check(scheme, classes):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((4, 25))
    Y = rng.integers(0, classes, size=(1, 25))
    params = _bn_net([4, 6, 5, 1 if classes == 2 else classes], scheme, seed=2)
    # Away from the initial gamma = 1, beta = 0, so the check covers general values.
    for l in (1, 2):
        params[f"gamma{l}"] = 1 + 0.3 * rng.standard_normal(params[f"gamma{l}"].shape)
        params[f"beta{l}"] = 0.5 * rng.standard_normal(params[f"beta{l}"].shape)
    for lambd in (0.0, 0.7):
        result = check_model(params, X, Y, lambd)
        assert result.passed, result.to_dict()
        assert set(result.per_param) == set(model.trainable(params))
        assert max(result.per_param.values()) < 2e-7


@pytest.mark.parametrize("vectorised", [False, True])
def test_batch_norm_gradient_check_finds_a_planted_gamma_bug(vectorised):
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((3, 20)), rng.integers(0, 3, size=(1, 20))
    result = check_model(_bn_net([3, 5, 4, 3]), X, Y, inject="dgamma2", vectorised=vectorised)
    assert not result.passed and result.flagged == ["gamma2"]


@pytest.mark.parametrize("dims", [[4, 6, 1], [4, 6, 5, 3], [3, 5, 4, 6, 1]], ids=["1 hidden", "2 hidden, softmax", "3 hidden"])
def test_batch_norm_checks_agree_between_the_loop_and_the_vectorised_path(dims):
    """The vectorised check renormalises the one row a shift moves (and every row of
    the layers above it): its differences are the loop's, to rounding."""
    rng = np.random.default_rng(len(dims))
    X = rng.standard_normal((dims[0], 30))
    Y = rng.integers(0, max(2, dims[-1]), size=(1, 30))
    params = _bn_net(dims, seed=len(dims))
    for l in range(1, len(dims) - 1):
        params[f"gamma{l}"] = 1 + 0.3 * rng.standard_normal(params[f"gamma{l}"].shape)
        params[f"beta{l}"] = 0.5 * rng.standard_normal(params[f"beta{l}"].shape)
    loop = check_model(params, X, Y, 0.3, vectorised=False)
    fast = check_model(params, X, Y, 0.3, vectorised=True)
    assert loop.passed and fast.passed
    assert set(fast.approx) == set(model.trainable(params))
    for name in fast.approx:
        np.testing.assert_allclose(fast.approx[name], loop.approx[name], rtol=1e-6, atol=1e-8, err_msg=name)


def test_gradient_check_on_digits_after_training():
    d = datasets.digits()
    X, Y = d.train.X[:, :100] / 16.0, d.train.Y[:, :100]
    params = fit(_bn_net([64, 16, 16, 10]), X, Y, learning_rate=0.5, num_iterations=50).params
    result = check_model(params, X, Y, 0.1)
    assert result.passed, result.to_dict()


def _trained_digits_bn(iterations=150, **options):
    d = datasets.digits()
    mean, std = d.train.X.mean(axis=1, keepdims=True), d.train.X.std(axis=1, keepdims=True) + 1e-8
    X = (d.train.X - mean) / std
    with threadpool_limits(1):  # tiny matrices: BLAS threads only contend
        params = fit(_bn_net([64, 32, 16, 10]), X, d.train.Y, learning_rate=0.5, num_iterations=iterations, **options).params
    return params, X, d.train.Y, (d.test.X - mean) / std, d.test.Y


def test_prediction_uses_running_statistics_one_example_alone_or_in_a_batch():
    params, X, Y, Xt, Yt = _trained_digits_bn()
    batch = model.predict(Xt, params)
    for i in range(0, Xt.shape[1], 37):
        assert model.predict(Xt[:, i : i + 1], params)[0, 0] == batch[0, i]
    order = np.random.default_rng(0).permutation(Xt.shape[1])
    np.testing.assert_array_equal(model.predict(Xt[:, order], params), batch[:, order])
    # With batch statistics instead, a lone example would be normalised to 0 (var 0):
    # every example would get one and the same prediction.
    lone = [int(np.argmax(model.forward(Xt[:, i : i + 1], params, training=True)[0])) for i in range(20)]
    assert len(set(lone)) == 1
    assert model.accuracy(Xt, Yt, params) > 0.9


def test_fit_moves_the_running_statistics_to_the_training_statistics():
    params, X, Y, *_ = _trained_digits_bn(iterations=300)
    # Full batch, momentum 0.9: after 300 steps the average has forgotten its start
    # (mean 0, variance 1) and tracks the slowly moving statistics of the full batch.
    _, caches = model.forward(X, params, training=True)
    for l in (1, 2):
        mu, var = caches[l - 1][4]
        np.testing.assert_allclose(params[f"running_mean{l}"], mu, rtol=0.05, atol=0.05)
        np.testing.assert_allclose(params[f"running_var{l}"], var, rtol=0.05, atol=0.05)
    assert not np.allclose(params["running_mean2"], 0) and not np.allclose(params["running_var1"], 1)
    # Eval-mode outputs on the training set are then close to the training-mode ones.
    np.testing.assert_allclose(model.forward(X, params)[0], model.forward(X, params, training=True)[0], rtol=0.1, atol=0.1)


def test_update_running_stats_is_the_exponentially_weighted_average():
    X = np.random.default_rng(4).standard_normal((5, 40))
    p = _bn_net([5, 6, 4, 3])
    _, caches = model.forward(X, p, training=True)
    Z1 = p["W1"] @ X
    last = model.update_running_stats(p, caches, momentum=0.0)
    np.testing.assert_allclose(last["running_mean1"], Z1.mean(axis=1, keepdims=True))
    np.testing.assert_allclose(last["running_var1"], Z1.var(axis=1, keepdims=True))
    step = model.update_running_stats(p, caches, momentum=0.9)
    np.testing.assert_allclose(step["running_var1"], 0.9 * 1.0 + 0.1 * Z1.var(axis=1, keepdims=True))
    assert p["running_mean1"].sum() == 0  # the input dict is left alone
    # Prediction-mode passes carry no statistics: nothing moves.
    _, eval_caches = model.forward(X, p)
    np.testing.assert_array_equal(model.update_running_stats(p, eval_caches)["running_var2"], p["running_var2"])


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "rmsprop", "adam"])
def test_batch_norm_trains_with_every_optimizer_mini_batches_l2_and_dropout(optimizer):
    d = datasets.spiral()
    randomness = ModernRandomness(1)
    lr = 0.5 if optimizer in ("gd", "momentum") else 0.01
    result = fit(
        _bn_net([2, 20, 10, 3]), d.train.X, d.train.Y, learning_rate=lr, num_iterations=300, lambd=0.1,
        keep_prob=0.9, draw_masks=randomness.dropout_masks, optimizer=optimizer, batch_size=64,
        shuffle=randomness.shuffle,
    )
    assert result.costs[-1] < 0.6 * result.costs[0]
    assert model.accuracy(d.test.X, d.test.Y, result.params) > 0.75
    assert not np.array_equal(result.params["running_var2"], np.ones((10, 1)))


def test_a_model_without_batch_norm_is_untouched_by_the_bn_code_paths():
    params = initialize([3, 4, 1], "he", ModernRandomness(0).normal)
    X = np.random.default_rng(0).standard_normal((3, 8))
    a, caches = model.forward(X, params)
    b, _ = model.forward(X, params, training=True)
    np.testing.assert_array_equal(a, b)
    assert model.update_running_stats(params, caches) is params
    assert model.trainable(params) == params
