import numpy as np
import pytest

from src.nn.init import INITIALIZERS, initialize
from src.randomness import CourseRandomness, ModernRandomness


def test_he_matches_course_seed_3():
    params = initialize([2, 4, 1], "he", CourseRandomness(3).normal)
    np.testing.assert_allclose(
        params["W1"],
        [[1.78862847, 0.43650985], [0.09649747, -1.8634927], [-0.2773882, -0.35475898], [-0.08274148, -0.62700068]],
        atol=1e-8,
    )
    np.testing.assert_allclose(params["W2"], [[-0.03098412, -0.33744411, -0.92904268, 0.62552248]], atol=1e-8)
    assert np.array_equal(params["b1"], np.zeros((4, 1))) and np.array_equal(params["b2"], np.zeros((1, 1)))


def test_random_matches_course_seed_3():
    params = initialize([3, 2, 1], "random", CourseRandomness(3).normal)
    np.testing.assert_allclose(
        params["W1"], [[17.88628473, 4.36509851, 0.96497468], [-18.63492703, -2.77388203, -3.54758979]], atol=1e-8
    )
    np.testing.assert_allclose(params["W2"], [[-0.82741481, -6.27000677]], atol=1e-8)
    assert np.array_equal(params["b1"], np.zeros((2, 1)))


def test_zeros_draws_nothing_and_is_zero():
    randomness = ModernRandomness(0)
    params = initialize([2, 3, 1], "zeros", randomness.normal)
    assert all(not v.any() for v in params.values())
    # the generator was not advanced
    assert randomness.generator.random() == np.random.default_rng(0).random()


@pytest.mark.parametrize(
    "scheme, expected_std",
    [("he", lambda n, p: np.sqrt(2 / p)), ("xavier", lambda n, p: np.sqrt(1 / p)),
     ("glorot", lambda n, p: np.sqrt(2 / (n + p))), ("random", lambda n, p: 10.0)],
)
def test_scale_of_each_scheme(scheme, expected_std):
    n, n_prev = 400, 250
    W = initialize([n_prev, n, 1], scheme, ModernRandomness(0).normal)["W1"]
    assert W.shape == (n, n_prev)
    assert W.std() == pytest.approx(expected_std(n, n_prev), rel=0.02)
    assert abs(W.mean()) < 0.02 * expected_std(n, n_prev)


def test_shapes_for_any_depth():
    params = initialize([5, 7, 6, 4, 3, 2, 1], "he", ModernRandomness(1).normal)
    assert [params[f"W{l}"].shape for l in range(1, 7)] == [(7, 5), (6, 7), (4, 6), (3, 4), (2, 3), (1, 2)]
    assert [params[f"b{l}"].shape for l in range(1, 7)] == [(7, 1), (6, 1), (4, 1), (3, 1), (2, 1), (1, 1)]


def test_lookup_by_name():
    assert set(INITIALIZERS) == {"zeros", "random", "he", "xavier", "glorot"}
