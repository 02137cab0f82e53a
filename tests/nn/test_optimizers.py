import numpy as np
import pytest

from src.data import circles
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


def test_defaults_match_the_config_group():
    from pathlib import Path

    import yaml

    conf = Path(__file__).resolve().parents[2] / "conf" / "optimizer"
    for name, opt in OPTIMIZERS.items():
        values = yaml.safe_load((conf / f"{name}.yaml").read_text())
        assert values.pop("name") == name
        assert {k: float(v) for k, v in values.items()} == opt.hyper


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
