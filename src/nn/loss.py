"""Binary cross-entropy from logits, and the L2 penalty with its gradient.

Working from the logits Z (not from A = sigmoid(Z)) keeps the cost finite and
warning-free even when A saturates to exactly 0 or 1 (``random`` init):

    -[y log s(z) + (1 - y) log(1 - s(z))] = log(1 + e^z) - y z = logaddexp(0, z) - y z
"""
from __future__ import annotations

import numpy as np

from .layers import sigmoid


def cross_entropy(ZL: np.ndarray, Y: np.ndarray) -> float:
    """Mean log-loss over the m columns."""
    m = Y.shape[1]
    return float(np.sum(np.logaddexp(0.0, ZL) - Y * ZL) / m)


def cross_entropy_backward(ZL: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """d cost / d ZL = (sigmoid(ZL) - Y) / m (sigmoid and log-loss fused)."""
    return (sigmoid(ZL) - Y) / Y.shape[1]


def l2_penalty(squares, lambd: float, m: int):
    """lambd / (2m) * squares, where squares = sum_l ||W_l||_F^2 (a number, or an array of them)."""
    return lambd / (2 * m) * squares


def l2_cost(params: dict[str, np.ndarray], lambd: float, m: int) -> float:
    """The L2 term of the cost: l2_penalty of the W's (biases are not penalised)."""
    if lambd == 0:
        return 0.0
    squares = sum(np.sum(np.square(W)) for name, W in params.items() if name.startswith("W"))
    return float(l2_penalty(squares, lambd, m))


def l2_grad(W: np.ndarray, lambd: float, m: int) -> np.ndarray:
    """d l2_cost / d W = (lambd / m) W."""
    return (lambd / m) * W
