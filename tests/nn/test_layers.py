import numpy as np

from src.nn.layers import (
    linear_backward, linear_forward, relu_backward, relu_forward, sigmoid, sigmoid_backward, sigmoid_forward,
)


def _numeric(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        plus = f()
        x[idx] = old - eps
        minus = f()
        x[idx] = old
        g[idx] = (plus - minus) / (2 * eps)
    return g


def _rel(a, b):
    return np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b))


rng = np.random.default_rng(0)


def test_linear_backward_matches_finite_differences():
    A, W, b = rng.standard_normal((4, 6)), rng.standard_normal((3, 4)), rng.standard_normal((3, 1))
    dout = rng.standard_normal((3, 6))
    Z, cache = linear_forward(A, W, b)
    np.testing.assert_allclose(Z, W @ A + b)
    dA, dW, db = linear_backward(dout, cache)
    loss = lambda: float(np.sum(linear_forward(A, W, b)[0] * dout))
    assert _rel(dA, _numeric(loss, A)) < 1e-8
    assert _rel(dW, _numeric(loss, W)) < 1e-8
    assert _rel(db, _numeric(loss, b)) < 1e-8


def test_relu_backward_matches_finite_differences_away_from_kink():
    Z = rng.standard_normal((5, 7))
    Z[np.abs(Z) < 1e-3] = 0.5
    dout = rng.standard_normal(Z.shape)
    A, cache = relu_forward(Z)
    assert np.array_equal(A, np.maximum(Z, 0))
    dZ = relu_backward(dout, cache)
    assert _rel(dZ, _numeric(lambda: float(np.sum(relu_forward(Z)[0] * dout)), Z)) < 1e-8


def test_relu_subgradient_at_zero_is_zero():
    assert relu_backward(np.ones((1, 1)), np.zeros((1, 1)))[0, 0] == 0


def test_sigmoid_backward_matches_finite_differences():
    Z = rng.standard_normal((3, 4)) * 3
    dout = rng.standard_normal(Z.shape)
    _, cache = sigmoid_forward(Z)
    dZ = sigmoid_backward(dout, cache)
    assert _rel(dZ, _numeric(lambda: float(np.sum(sigmoid_forward(Z)[0] * dout)), Z)) < 1e-8


def test_sigmoid_saturates_without_warning(recwarn):
    out = sigmoid(np.array([[-1000.0, 0.0, 1000.0]]))
    assert np.array_equal(out, [[0.0, 0.5, 1.0]])
    assert not [w for w in recwarn.list if issubclass(w.category, RuntimeWarning)]
