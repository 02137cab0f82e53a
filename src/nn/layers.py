"""Layer pairs in the CS231n pattern: ``forward(...) -> (out, cache)`` and
``backward(dout, cache) -> grads``.

Shapes (course layout, examples in columns): ``A_prev: (n_prev, m)``,
``W: (n, n_prev)``, ``b: (n, 1)``, ``Z, A: (n, m)``.
"""
from __future__ import annotations

import numpy as np


def linear_forward(A_prev: np.ndarray, W: np.ndarray, b: np.ndarray):
    """Z = W A_prev + b."""
    return W @ A_prev + b, (A_prev, W)


def linear_backward(dZ: np.ndarray, cache):
    """dZ already carries the 1/m of the mean cost, so no averaging here."""
    A_prev, W = cache
    return W.T @ dZ, dZ @ A_prev.T, dZ.sum(axis=1, keepdims=True)


def relu_forward(Z: np.ndarray):
    return np.maximum(Z, 0), Z


def relu_backward(dA: np.ndarray, cache) -> np.ndarray:
    # The subgradient at 0 is taken as 0, as in the course (dZ[Z <= 0] = 0).
    return dA * (cache > 0)


def sigmoid(Z: np.ndarray) -> np.ndarray:
    # The course's formula, kept for bit-identical results; exp(-Z) overflows to
    # inf for Z < -709, which correctly gives 0, so the warning is silenced.
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-Z))


def sigmoid_forward(Z: np.ndarray):
    A = sigmoid(Z)
    return A, A


def sigmoid_backward(dA: np.ndarray, cache) -> np.ndarray:
    A = cache
    return dA * A * (1.0 - A)
