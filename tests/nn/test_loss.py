import warnings

import numpy as np
import pytest

from src.nn.loss import cross_entropy, cross_entropy_backward, l2_cost, l2_grad
from src.nn.model import cost
from tests.course_cases import Y_ASSESS, three_layer_params


def test_l2_cost_matches_course_test_case():
    # compute_cost_with_regularization_test_case: parameters after seed 1, the
    # published a3, lambd = 0.1 -> 1.78648594516. We work from logits, so a3 is
    # turned back into its logits first.
    params = three_layer_params(np.random.RandomState(1))
    a3 = np.array([[0.40682402, 0.01629284, 0.16722898, 0.10118111, 0.40682402]])
    logits = np.log(a3) - np.log1p(-a3)
    assert cost(logits, Y_ASSESS, params, lambd=0.1) == pytest.approx(1.78648594516, abs=1e-8)


def test_cross_entropy_equals_the_textbook_formula_where_that_is_finite():
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((1, 50)) * 4
    Y = (rng.random((1, 50)) > 0.5).astype(int)
    A = 1 / (1 + np.exp(-Z))
    textbook = -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))
    assert cross_entropy(Z, Y) == pytest.approx(textbook, rel=1e-12)


def test_cross_entropy_is_finite_and_silent_when_saturated():
    Z = np.array([[800.0, -800.0, 50.0, -50.0]])
    Y = np.array([[0, 1, 1, 0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = cross_entropy(Z, Y)
        grad = cross_entropy_backward(Z, Y)
    assert value == pytest.approx((800 + 800 + np.log1p(np.exp(-50)) * 2) / 4)
    np.testing.assert_allclose(grad, [[0.25, -0.25, 0.0, 0.0]], atol=1e-20)


def test_l2_penalty_and_its_gradient():
    params = {"W1": np.array([[1.0, 2.0]]), "b1": np.array([[100.0]]), "W2": np.array([[3.0]]), "b2": np.zeros((1, 1))}
    assert l2_cost(params, lambd=0.5, m=4) == pytest.approx(0.5 / 8 * (1 + 4 + 9))
    assert l2_cost(params, lambd=0.0, m=4) == 0.0
    np.testing.assert_allclose(l2_grad(params["W1"], 0.5, 4), [[0.125, 0.25]])
