import numpy as np
import pytest

from src.nn import model
from src.nn.init import INITIALIZERS, initialize
from src.randomness import ModernRandomness
from tests.course_cases import assess_case, numeric_gradient, rel_error


def test_l2_backward_matches_course():
    X, Y, params = assess_case()
    ZL, caches = model.forward(X, params)
    grads = model.backward(ZL, Y, caches, lambd=0.7)
    np.testing.assert_allclose(grads["W1"], [[-0.25604646, 0.12298827, -0.28297129], [-0.17706303, 0.34536094, -0.4410571]], atol=1e-8)
    np.testing.assert_allclose(grads["W2"], [[0.79276486, 0.85133918], [-0.0957219, -0.01720463], [-0.13100772, -0.03750433]], atol=1e-8)
    np.testing.assert_allclose(grads["W3"], [[-1.77691347, -0.11832879, -0.09397446]], atol=1e-8)


def _problem(dims, scheme, seed=0, m=20):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((dims[0], m))
    Y = (rng.random((1, m)) > 0.5).astype(int)
    params = initialize(dims, scheme, ModernRandomness(seed).normal)
    # Zero biases put Z exactly on a ReLU kink wherever a layer's input column is
    # all zero (a dropped-out or dead layer, or zeros init); finite differences
    # straddle the kink there. Non-zero biases keep the check about the algebra.
    for l in range(1, len(dims)):
        params[f"b{l}"] = rng.standard_normal(params[f"b{l}"].shape) * 0.5
    return X, Y, params


def _check(X, Y, params, lambd=0.0, masks=None, keep_prob=1.0):
    def f(p):
        return model.cost(model.forward(X, p, masks, keep_prob)[0], Y, p, lambd)

    ZL, caches = model.forward(X, params, masks, keep_prob)
    analytic = model.backward(ZL, Y, caches, lambd)
    return rel_error(analytic, numeric_gradient(f, params))


@pytest.mark.parametrize("scheme", sorted(INITIALIZERS))
@pytest.mark.parametrize("lambd", [0.0, 0.7])
def test_gradients_match_finite_differences(scheme, lambd):
    X, Y, params = _problem([3, 5, 4, 1], scheme)
    if scheme == "random":
        # randn x 10 saturates the sigmoid: the gradient is ~0 and relative error
        # is meaningless; use smaller inputs so the check exercises real slopes
        X = X * 0.01
    assert _check(X, Y, params, lambd) < 1e-7


@pytest.mark.parametrize("lambd", [0.0, 0.3])
def test_gradients_with_a_fixed_dropout_mask(lambd):
    X, Y, params = _problem([3, 6, 5, 1], "he", seed=2)
    masks = ModernRandomness(9).dropout_masks([(6, 20), (5, 20)], 0.7)
    assert _check(X, Y, params, lambd, masks, 0.7) < 1e-7


@pytest.mark.parametrize("hidden", [[4], [6, 5, 4, 3, 2]])
def test_other_depths_work_and_are_correct(hidden):
    X, Y, params = _problem([3, *hidden, 1], "he", seed=4)
    assert model.num_layers(params) == len(hidden) + 1
    assert model.predict(X, params).shape == (1, 20)
    assert _check(X, Y, params, 0.2) < 1e-7


def test_predict_thresholds_at_one_half():
    params = {"W1": np.array([[1.0]]), "b1": np.zeros((1, 1))}
    X = np.array([[-1.0, 0.0, 1e-3, 2.0]])
    np.testing.assert_array_equal(model.predict(X, params), [[0, 0, 1, 1]])
    assert model.accuracy(X, np.array([[0, 1, 1, 1]]), params) == 0.75
