import numpy as np
import pytest

from src.nn.layers import sigmoid
from src.nn.loss import cross_entropy, cross_entropy_backward
from src.nn.softmax import (
    log_softmax, one_hot, predict_classes, softmax, softmax_backward, softmax_cross_entropy,
    softmax_cross_entropy_backward, softmax_forward,
)
from tests.nn.test_layers import _numeric, _rel

rng = np.random.default_rng(0)


def test_softmax_columns_are_distributions_and_shift_invariant():
    Z = rng.standard_normal((4, 7))
    P = softmax(Z)
    np.testing.assert_allclose(P.sum(axis=0), 1.0)
    np.testing.assert_allclose(softmax(Z + rng.standard_normal((1, 7)) * 50), P, atol=1e-12)
    np.testing.assert_allclose(np.exp(log_softmax(Z)), P, atol=1e-12)


def test_huge_logits_stay_finite():
    Z = np.array([[1000.0, -1000.0], [0.0, 1000.0], [-1000.0, 0.0]])
    Y = np.array([[2, 0]])
    assert np.all(np.isfinite(softmax(Z)))
    # The true class is 2000 below the max in column 0 and 2000 below in column 1.
    assert softmax_cross_entropy(Z, Y) == pytest.approx((2000.0 + 2000.0) / 2)
    assert np.all(np.isfinite(softmax_cross_entropy_backward(Z, Y)))


def test_one_hot_and_argmax():
    Y = np.array([[2, 0, 1, 2]])
    T = one_hot(Y, 3)
    np.testing.assert_array_equal(T, [[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 1]])
    np.testing.assert_array_equal(one_hot(T, 3), T)
    np.testing.assert_array_equal(predict_classes(T * 5.0), Y)
    assert predict_classes(T).dtype == np.int64


def test_softmax_backward_matches_finite_differences():
    Z = rng.standard_normal((5, 6))
    dout = rng.standard_normal((5, 6))
    A, cache = softmax_forward(Z)
    dZ = softmax_backward(dout, cache)
    assert _rel(dZ, _numeric(lambda: float(np.sum(softmax(Z) * dout)), Z)) < 1e-8


def test_fused_loss_gradient_matches_finite_differences_and_chain_rule():
    Z = rng.standard_normal((4, 9))
    Y = rng.integers(0, 4, size=(1, 9))
    dZ = softmax_cross_entropy_backward(Z, Y)
    assert _rel(dZ, _numeric(lambda: softmax_cross_entropy(Z, Y), Z)) < 1e-8
    # The fused form equals softmax_backward of dL/dA = -T / (m A).
    A, cache = softmax_forward(Z)
    np.testing.assert_allclose(softmax_backward(-one_hot(Y, 4) / (9 * A), cache), dZ, atol=1e-12)


def test_two_classes_reduce_to_the_sigmoid_loss():
    """Logits (0, s): softmax_1 = sigmoid(s), same loss, dZ rows = (-d, d)."""
    s = rng.standard_normal((1, 11)) * 3
    Y = rng.integers(0, 2, size=(1, 11))
    Z = np.vstack([np.zeros_like(s), s])
    np.testing.assert_allclose(softmax(Z)[1:], sigmoid(s), atol=1e-15)
    assert softmax_cross_entropy(Z, Y) == pytest.approx(cross_entropy(s, Y), abs=1e-14)
    dZ = softmax_cross_entropy_backward(Z, Y)
    np.testing.assert_allclose(dZ[1:], cross_entropy_backward(s, Y), atol=1e-15)
    np.testing.assert_allclose(dZ[:1], -cross_entropy_backward(s, Y), atol=1e-15)
    np.testing.assert_array_equal(predict_classes(Z), (sigmoid(s) > 0.5).astype(int))


# --- the softmax model (src/nn/model.py) ---------------------------------------------

from src.data import datasets  # noqa: E402
from src.nn.network_check import check_model  # noqa: E402
from src.nn import model  # noqa: E402
from src.nn.fit import fit  # noqa: E402
from src.nn.init import INITIALIZERS, initialize  # noqa: E402
from src.randomness import ModernRandomness  # noqa: E402


def _moons():
    d = datasets.moons(n_train=200, n_dev=10, n_test=200)
    return d.train.X, d.train.Y, d.test.X, d.test.Y


def _as_softmax(params):
    """The 2-way softmax net equal to a sigmoid net: output rows [0; W], [0; b],
    so the logits are (0, z) and softmax_1 = sigmoid(z)."""
    L = model.num_layers(params)
    out = dict(params)
    out[f"W{L}"] = np.vstack([np.zeros_like(params[f"W{L}"]), params[f"W{L}"]])
    out[f"b{L}"] = np.vstack([np.zeros_like(params[f"b{L}"]), params[f"b{L}"]])
    return out


def test_two_class_softmax_model_equals_the_sigmoid_model_exactly():
    X, Y, Xt, Yt = _moons()
    sig = initialize([2, 7, 4, 1], "he", ModernRandomness(3).normal)
    sig = fit(sig, X, Y, learning_rate=0.3, num_iterations=300).params  # a trained, non-trivial boundary
    soft = _as_softmax(sig)
    assert model.num_classes(soft) == model.num_classes(sig) == 2
    np.testing.assert_array_equal(model.predict(Xt, soft), model.predict(Xt, sig))
    np.testing.assert_allclose(model.predict_proba(Xt, soft)[1:], model.predict_proba(Xt, sig), atol=1e-12)
    for lambd in (0.0, 0.5):
        ZL_sig, caches_sig = model.forward(X, sig)
        ZL_soft, caches_soft = model.forward(X, soft)
        assert model.cost(ZL_soft, Y, soft, lambd) == pytest.approx(model.cost(ZL_sig, Y, sig, lambd), abs=1e-12)
        g_sig = model.backward(ZL_sig, Y, caches_sig, lambd)
        g_soft = model.backward(ZL_soft, Y, caches_soft, lambd)
        for name in ("W1", "b1", "W2", "b2"):  # hidden layers: the very same gradients
            np.testing.assert_allclose(g_soft[name], g_sig[name], atol=1e-12)
        # Output: the class-1 row gets the sigmoid's data gradient, class 0 its negative.
        data_grad = g_sig["W3"] - (lambd / X.shape[1]) * sig["W3"]
        np.testing.assert_allclose(g_soft["W3"][1:] - (lambd / X.shape[1]) * soft["W3"][1:], data_grad, atol=1e-12)
        np.testing.assert_allclose(g_soft["W3"][:1], -data_grad, atol=1e-12)


def test_trained_softmax_and_sigmoid_predict_alike(tmp_path):
    """Both trained by train() on the same data and seed (output=softmax vs auto)."""
    from src.recipe import train
    from tests.test_digits import compose

    overrides = ["dataset=moons", "layers=[10,5]", "learning_rate=0.3", "num_iterations=2000", "seed=3"]

    sig = train(compose(overrides))
    soft = train(compose([*overrides, "output=softmax"]))
    assert sig.params["W3"].shape == (1, 5) and soft.params["W3"].shape == (2, 5)
    test = sig.dataset.test
    agree = np.mean(model.predict(test.X, sig.params) == model.predict(test.X, soft.params))
    assert agree >= 0.97
    assert abs(sig.metrics["test_accuracy"] - soft.metrics["test_accuracy"]) <= 0.02


@pytest.mark.parametrize("scheme", sorted(INITIALIZERS))
@pytest.mark.parametrize("lambd", [0.0, 0.7])
def test_softmax_model_passes_the_gradient_check(scheme, lambd):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((4, 30)) * (0.05 if scheme == "random" else 1.0)
    Y = rng.integers(0, 3, size=(1, 30))
    params = initialize([4, 6, 5, 3], scheme, ModernRandomness(5).normal)
    for name in params:  # off the ReLU kinks (zeros init, zero biases)
        if name[0] == "b":
            params[name] = rng.standard_normal(params[name].shape) * 0.5
    for vectorised in (False, True):
        result = check_model(params, X, Y, lambd, vectorised=vectorised)
        assert result.passed, result.to_dict()


def test_one_hot_labels_give_the_same_cost_and_gradients():
    rng = np.random.default_rng(6)
    X, Y = rng.standard_normal((3, 12)), rng.integers(0, 4, size=(1, 12))
    params = initialize([3, 5, 4], "he", ModernRandomness(6).normal)
    ZL, caches = model.forward(X, params)
    T = one_hot(Y, 4)
    assert model.cost(ZL, T, params, 0.3) == model.cost(ZL, Y, params, 0.3)
    a, b = model.backward(ZL, Y, caches, 0.3), model.backward(ZL, T, caches, 0.3)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "rmsprop", "adam"])
def test_softmax_trains_with_every_optimizer_l2_and_dropout(optimizer):
    d = datasets.spiral()
    params = initialize([2, 20, 10, 3], "he", ModernRandomness(0).normal)
    randomness = ModernRandomness(1)
    lr = 0.5 if optimizer in ("gd", "momentum") else 0.01
    result = fit(
        params, d.train.X, d.train.Y, learning_rate=lr, num_iterations=400, lambd=0.1, keep_prob=0.9,
        draw_masks=randomness.dropout_masks, optimizer=optimizer, batch_size=64, shuffle=randomness.shuffle,
    )
    assert result.costs[-1] < 0.6 * result.costs[0]
    assert model.accuracy(d.train.X, d.train.Y, result.params) > 0.75
