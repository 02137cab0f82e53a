import numpy as np
import pytest

from src.data.datasets import circles
from src.nn.init import initialize
from src.nn.model import backward, cost, forward
from src.nn.optimizers import OPTIMIZERS, bias_corrected, ewma
from src.randomness import ModernRandomness

W = np.array([[1.0, -2.0]])
G = np.array([[0.5, -0.25]])


def step(name, params, grads, state=None, lr=0.1, **hyper):
    opt = OPTIMIZERS[name]
    return opt.update(params, grads, opt.init(params) if state is None else state, lr, **hyper)


def test_temperature_example_ewma_and_bias_correction():
    # The lecture's London temperatures: theta_1 = 40F, theta_2 = 49F, theta_3 = 45F, beta = 0.98.
    theta, beta = [40.0, 49.0, 45.0], 0.98
    v, corrected = 0.0, []
    for t, value in enumerate(theta, start=1):
        v = ewma(v, value, beta)
        corrected.append(bias_corrected(v, beta, t))
    # v_1 = 0.02 * 40 = 0.8: far below 40 without the correction; v_1 / (1 - 0.98) = 40 exactly.
    assert ewma(0.0, 40.0, beta) == pytest.approx(0.8)
    assert corrected[0] == pytest.approx(40.0)
    # v_2 = 0.0196 * 40 + 0.02 * 49 = 1.764, and / (1 - 0.98^2) = 0.0396 a weighted mean of 40 and 49
    assert corrected[1] == pytest.approx((0.0196 * 40 + 0.02 * 49) / 0.0396)
    assert 40 < corrected[1] < 49 and 40 < corrected[2] < 49
    # for large t the correction fades: 1 - beta^t -> 1
    assert bias_corrected(1.0, beta, 1000) == pytest.approx(1.0, abs=1e-8)


def test_gd_step_by_hand():
    new, state = step("gd", {"W1": W}, {"W1": G})
    np.testing.assert_allclose(new["W1"], [[0.95, -1.975]], rtol=0, atol=1e-15)
    assert state == {}


def test_momentum_steps_by_hand():
    params, state = step("momentum", {"W1": W}, {"W1": G}, beta=0.9)
    np.testing.assert_allclose(state["v"]["W1"], [[0.05, -0.025]])
    np.testing.assert_allclose(params["W1"], [[0.995, -1.9975]])
    params, state = step("momentum", params, {"W1": G}, state, beta=0.9)
    np.testing.assert_allclose(state["v"]["W1"], [[0.095, -0.0475]])
    np.testing.assert_allclose(params["W1"], [[0.9855, -1.99275]])


def test_rmsprop_step_by_hand():
    params, state = step("rmsprop", {"W1": W}, {"W1": G}, beta2=0.999, epsilon=1e-8)
    s = 0.001 * G**2
    np.testing.assert_allclose(state["s"]["W1"], s)
    np.testing.assert_allclose(params["W1"], W - 0.1 * G / (np.sqrt(s) + 1e-8))
    assert params["W1"][0, 0] == pytest.approx(1 - 0.1 / np.sqrt(0.001), rel=1e-6)


def test_adam_steps_by_hand_with_bias_correction():
    # Step 1: v^ = g, s^ = g^2, so the step is lr * g / |g| = lr in every coordinate's direction.
    params, state = step("adam", {"W1": W}, {"W1": G}, beta1=0.9, beta2=0.999, epsilon=1e-8)
    assert state["t"] == 1
    np.testing.assert_allclose(state["v"]["W1"], 0.1 * G)
    np.testing.assert_allclose(state["s"]["W1"], 0.001 * G**2)
    np.testing.assert_allclose(params["W1"], [[0.9, -1.9]], atol=1e-8)
    # Step 2, same gradient: v = 0.095 for g = 0.5, v^ = 0.095 / 0.19 = 0.5 again.
    params, state = step("adam", params, {"W1": G}, state, beta1=0.9, beta2=0.999, epsilon=1e-8)
    assert state["t"] == 2
    np.testing.assert_allclose(state["v"]["W1"][0, 0], 0.095)
    np.testing.assert_allclose(params["W1"], [[0.8, -1.8]], atol=1e-8)


def test_updates_leave_their_inputs_alone():
    for name, opt in OPTIMIZERS.items():
        params, grads = {"W1": W.copy()}, {"W1": G.copy()}
        state = opt.init(params)
        opt.update(params, grads, state, 0.1)
        opt.update(params, grads, state, 0.1)
        assert np.array_equal(params["W1"], W) and np.array_equal(grads["W1"], G), name
        if "t" in state:
            assert state["t"] == 0


def numeric_grads(cost_fn, params, eps=1e-6):
    grads = {}
    for name, value in params.items():
        g = np.zeros_like(value)
        for i in np.ndindex(value.shape):
            plus = {k: v.copy() for k, v in params.items()}
            minus = {k: v.copy() for k, v in params.items()}
            plus[name][i] += eps
            minus[name][i] -= eps
            g[i] = (cost_fn(plus) - cost_fn(minus)) / (2 * eps)
        grads[name] = g
    return grads


@pytest.fixture(scope="module")
def problem():
    data = circles()
    X, Y = data.train.X[:, :60], data.train.Y[:, :60]
    randomness = ModernRandomness(4)
    params = initialize([2, 5, 3, 1], "he", randomness.normal)
    # Non-zero biases: with b = 0 an example whose layer-1 units are all off sits
    # exactly on a layer-2 ReLU kink, where finite differences are meaningless.
    for name in ("b1", "b2", "b3"):
        params[name] = 0.1 * randomness.normal(params[name].shape)
    cost_fn = lambda p: cost(forward(X, p)[0], Y, p, 0.1)  # noqa: E731
    ZL, caches = forward(X, params)
    return params, cost_fn, backward(ZL, Y, caches, 0.1), numeric_grads(cost_fn, params)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_rule_steps_alike_from_finite_difference_gradients(problem, name):
    params, cost_fn, analytic, numeric = problem
    opt = OPTIMIZERS[name]
    lr = 1e-3
    new_a, state_a = opt.update(params, analytic, opt.init(params), lr)
    new_n, _ = opt.update(params, numeric, opt.init(params), lr)
    for key in params:
        step_a, step_n = new_a[key] - params[key], new_n[key] - params[key]
        # Adam's and RMSprop's first step is lr * g / |g|: only defined where the
        # gradient stands out of the finite differences' noise.
        resolved = np.abs(analytic[key]) > 1e-6
        np.testing.assert_allclose(step_a[resolved], step_n[resolved], rtol=1e-4, atol=1e-9)
    # and it is a descent step
    assert cost_fn(new_a) < cost_fn(params)
    assert sum(np.sum(analytic[k] * (new_a[k] - params[k])) for k in params) < 0


# --- the week-2 notebook's published test vectors (public_tests.py) ----------------------


def week2_case():
    """update_parameters_with_{gd,momentum,adam}_test_case: np.random.seed(1), then
    W1 (2,3), b1 (2,1), W2 (3,2), b2 (3,1) and their gradients, drawn in that order."""
    state = np.random.RandomState(1)
    shapes = {"W1": (2, 3), "b1": (2, 1), "W2": (3, 2), "b2": (3, 1)}
    params = {name: state.randn(*shape) for name, shape in shapes.items()}
    grads = {name: state.randn(*shape) for name, shape in shapes.items()}
    return params, grads


def test_gd_gives_the_notebooks_parameters():
    params, grads = week2_case()
    new, _ = step("gd", params, grads, lr=0.01)
    expected = {"W1": [[1.63312395, -0.61217855, -0.5339999], [-1.06196243, 0.85396039, -2.3105546]],
                "b1": [[1.73978682], [-0.77021546]],
                "W2": [[0.32587637, -0.24814147], [1.47146563, -2.05746183], [-0.32772076, -0.37713775]],
                "b2": [[1.13773698], [-1.09301954], [-0.16397615]]}
    for name, value in expected.items():
        np.testing.assert_allclose(new[name], value, atol=1e-8)


def test_momentum_gives_the_notebooks_parameters_and_velocity():
    params, grads = week2_case()
    new, state = step("momentum", params, grads, lr=0.01, beta=0.9)
    expected = {"W1": [[1.62522322, -0.61179863, -0.52875457], [-1.071868, 0.86426291, -2.30244029]],
                "b1": [[1.74430927], [-0.76210776]],
                "W2": [[0.31972282, -0.24924749], [1.46304371, -2.05987282], [-0.32294756, -0.38336269]],
                "b2": [[1.1341662], [-1.09920409], [-0.171583]]}
    velocity = {"W1": [[-0.08778584, 0.00422137, 0.05828152], [-0.11006192, 0.11447237, 0.09015907]],
                "W2": [[-0.06837279, -0.01228902], [-0.09357694, -0.02678881], [0.05303555, -0.06916608]],
                "b1": [[0.05024943], [0.09008559]], "b2": [[-0.03967535], [-0.06871727], [-0.08452056]]}
    for name in expected:
        np.testing.assert_allclose(new[name], expected[name], atol=1e-8)
        np.testing.assert_allclose(state["v"][name], velocity[name], atol=1e-8)


def test_adam_gives_the_notebooks_parameters_at_t_2():
    # t = 2, lr 0.02, beta1 0.8, beta2 0.888, epsilon 1e-2, from zero moments: the test
    # case's update is our second step's arithmetic with the first step's t.
    params, grads = week2_case()
    opt = OPTIMIZERS["adam"]
    state = {**opt.init(params), "t": 1}
    new, state = opt.update(params, grads, state, 0.02, beta1=0.8, beta2=0.888, epsilon=1e-2)
    assert state["t"] == 2
    v_row0 = {"W1": [-0.17557168, 0.00844275, 0.11656304], "W2": [-0.13674557, -0.02457805], "b1": [0.10049887], "b2": [-0.07935071]}
    s_row0 = {"W1": [0.08631117, 0.00019958, 0.03804344], "W2": [0.05235818, 0.00169142], "b1": [0.02828006], "b2": [0.0176303]}
    expected = {"W1": [[1.63937725, -0.62327448, -0.54308727], [-1.0578897, 0.85032154, -2.31657668]],
                "W2": [[0.33400549, -0.23563857], [1.47715417, -2.04561842], [-0.33729882, -0.36908457]],
                "b1": [[1.72995096], [-0.7762447]], "b2": [[1.14852557], [-1.08492339], [-0.15740527]]}
    for name in expected:
        np.testing.assert_allclose(state["v"][name][0], v_row0[name], atol=1e-8)
        np.testing.assert_allclose(state["s"][name][0], s_row0[name], atol=1e-8)
        np.testing.assert_allclose(new[name], expected[name], atol=1e-8)
