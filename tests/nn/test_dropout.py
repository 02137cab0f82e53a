import numpy as np
import pytest

from src.nn import model
from src.nn.dropout import dropout_backward, dropout_forward
from src.nn.layers import linear_backward, relu_backward, sigmoid
from src.randomness import CourseRandomness, ModernRandomness
from tests.course_cases import assess_case

HIDDEN = [(2, 5), (3, 5)]


def test_forward_matches_course_keep_prob_07():
    X, _, params = assess_case()
    masks = CourseRandomness(0).dropout_masks(HIDDEN, 0.7)
    ZL, _ = model.forward(X, params, masks, keep_prob=0.7)
    np.testing.assert_allclose(
        sigmoid(ZL), [[0.36974721, 0.00305176, 0.04565099, 0.49683389, 0.36974721]], atol=1e-8
    )


def test_backward_matches_course_dA1():
    # The course's backward test case caches a forward pass run with keep_prob
    # 0.5 and then back-propagates with keep_prob 0.8; its dA values use
    # dZ3 = A3 - Y (the 1/m is applied only to dW and db), i.e. m times ours.
    X, Y, params = assess_case()
    masks = CourseRandomness(0).dropout_masks(HIDDEN, 0.5)
    ZL, caches = model.forward(X, params, masks, keep_prob=0.5)
    (_, _, drop1), (lin2, relu2, drop2), (lin3, _, _) = caches
    dZ3 = sigmoid(ZL) - Y
    dA2 = dropout_backward(linear_backward(dZ3, lin3)[0], (drop2[0], 0.8))
    dA1 = dropout_backward(linear_backward(relu_backward(dA2, relu2), lin2)[0], (drop1[0], 0.8))
    np.testing.assert_allclose(
        dA1, [[0.36544439, 0.0, -0.00188233, 0.0, -0.17408748], [0.65515713, 0.0, -0.00337459, 0.0, -0.0]], atol=1e-8
    )


def test_inverted_dropout_keeps_the_expected_activation():
    A = np.ones((200, 500))
    mask = ModernRandomness(0).dropout_masks([A.shape], 0.8)[0]
    out, cache = dropout_forward(A, mask, 0.8)
    assert out.mean() == pytest.approx(1.0, abs=0.01)
    assert set(np.unique(out)) == {0.0, 1.25}
    # the same units are shut off and the same scale applied on the way back
    np.testing.assert_array_equal(dropout_backward(np.ones_like(A), cache), out)


def test_course_masks_are_redrawn_identically_every_pass():
    course = CourseRandomness(3)
    first = course.dropout_masks(HIDDEN, 0.86)
    second = course.dropout_masks(HIDDEN, 0.86)
    state = np.random.RandomState(1)
    expected = [state.rand(*shape) < 0.86 for shape in HIDDEN]
    for a, b, c in zip(first, second, expected):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, c)


def test_modern_masks_differ_between_passes_but_repeat_by_seed():
    a, b = ModernRandomness(5), ModernRandomness(5)
    first_a, second_a = a.dropout_masks(HIDDEN, 0.5), a.dropout_masks(HIDDEN, 0.5)
    first_b = b.dropout_masks(HIDDEN, 0.5)
    assert not all(np.array_equal(x, y) for x, y in zip(first_a, second_a))
    assert all(np.array_equal(x, y) for x, y in zip(first_a, first_b))


def test_prediction_never_drops_units():
    X, _, params = assess_case()
    np.testing.assert_array_equal(model.predict_proba(X, params), sigmoid(model.forward(X, params)[0]))
