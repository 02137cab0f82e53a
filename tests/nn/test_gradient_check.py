"""The pure gradient checker (src/nn/gradient_check.py): the course's 1D examples,
the one verdict rule (pass / rounding / fail), and its inputs left untouched."""
from __future__ import annotations


import numpy as np
import pytest

from src.nn.gradient_check import ROUNDING, THRESHOLD, check_gradients, count, relative_difference, verdict


def test_1d_linear_matches_the_course():
    """J(theta) = theta * x with x = 2, theta = 4: dJ/dtheta = x. The course prints
    difference 2.919335883291695e-10 (rounding only) and "the gradient is correct"."""
    x = 2.0
    result = check_gradients(lambda p: float(p["theta"] * x), {"theta": np.array(4.0)}, {"theta": np.array(x)})
    assert result.passed
    assert result.difference == pytest.approx(2.919335883291695e-10, rel=1e-6)
    assert result.approx["theta"] == pytest.approx(2.0, abs=1e-8)

    wrong = check_gradients(lambda p: float(p["theta"] * x), {"theta": np.array(4.0)}, {"theta": np.array(3.0)})
    assert not wrong.passed and wrong.verdict == "fail"


def test_two_sided_beats_one_sided_on_theta_cubed():
    """f(theta) = theta^3 at theta = 1, eps = 0.01 (the lecture): g = 3; two-sided
    gives 3.0001 (error 1e-4, O(eps^2)), one-sided 3.0301 (error 3e-2, O(eps))."""
    f = lambda p: float(p["theta"] ** 3)  # noqa: E731
    result = check_gradients(f, {"theta": np.array(1.0)}, {"theta": np.array(3.0)}, epsilon=0.01)
    two_sided = float(result.approx["theta"])
    one_sided = (1.01**3 - 1.0**3) / 0.01
    assert two_sided == pytest.approx(3.0001, abs=1e-12)
    assert one_sided == pytest.approx(3.0301, abs=1e-12)
    assert abs(two_sided - 3) < abs(one_sided - 3) / 100



def test_verdict_rule():
    res = 1e-9  # resolution: spacing(cost scale) / (2 epsilon)
    assert verdict(1e-8, worst_gap=1.0, resolution=res) == verdict(1.9e-7, 1.0, res) == "pass"
    # not below the threshold: rounding while every entry is within ROUNDING resolutions ...
    assert verdict(1e-3, worst_gap=ROUNDING * res, resolution=res) == "rounding"
    # ... a real gap beyond that fails, however small the relative difference
    assert verdict(3e-7, worst_gap=ROUNDING * res * 1.01, resolution=res) == "fail"
    assert verdict(float("nan"), float("nan"), res) == "fail"
    assert verdict(5e-7, 1.0, res, threshold=1e-6) == "pass"
    assert THRESHOLD == 2e-7
    assert count(["pass", "pass", "rounding", "fail"]) == "2 passed, 1 inconclusive (rounding), 1 failed"


def test_rounding_is_told_apart_from_a_bug_at_the_cost_scale():
    """A cost of ~1e3 resolves a gradient entry to ~6e-7 only (spacing(1e3) / 2e-7): a
    gradient of 3e-6 given as 5e-6 cannot be told from right (rounding); one off by 1e-4 fails."""
    cost = lambda p: float(1000.0 + 3e-6 * p["w"][0])  # noqa: E731
    close = check_gradients(cost, {"w": np.array([0.3])}, {"w": np.array([5e-6])})
    assert close.resolution == pytest.approx(np.spacing(1000.0) / 2e-7)
    assert not close.passed and close.verdict == "rounding" and close.flagged == []
    assert "inconclusive" in close.why()
    off = check_gradients(cost, {"w": np.array([0.3])}, {"w": np.array([1e-4])})
    assert off.verdict == "fail" and off.flagged == ["w"] and "a gradient is wrong: w" in off.why()
    # a larger cost_scale (the caller knows the cost sums bigger terms) widens the resolution
    scaled = check_gradients(cost, {"w": np.array([0.3])}, {"w": np.array([1e-4])}, cost_scale=1e12)
    assert scaled.resolution > off.resolution * 1e8 and scaled.verdict == "pass"  # both within 2 resolutions of 0


def test_zero_gradients_count_as_matching():
    assert relative_difference(np.zeros(3), np.zeros(3)) == 0.0
    # both sides zero up to what differences resolve: 0, not 1 or NaN
    result = check_gradients(lambda p: 1.0 + 0.0 * float(p["a"].sum()), {"a": np.ones(2)}, {"a": np.array([1e-18, 0.0])})
    assert result.difference == 0.0 and result.verdict == "pass"


def test_mismatched_inputs_are_refused():
    with pytest.raises(ValueError, match="keys"):
        check_gradients(lambda p: 0.0, {"a": np.zeros(2)}, {"b": np.zeros(2)})
    with pytest.raises(ValueError, match="shape"):
        check_gradients(lambda p: 0.0, {"a": np.zeros(2)}, {"a": np.zeros(3)})
