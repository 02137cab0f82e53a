"""The course's seeded test cases, rebuilt from their seeds, and a finite-difference
reference gradient independent of src.gradcheck."""
from __future__ import annotations

import numpy as np

Y_ASSESS = np.array([[1, 1, 0, 1, 0]])


def three_layer_params(state: np.random.RandomState) -> dict[str, np.ndarray]:
    """W1 (2,3), b1, W2 (3,2), b2, W3 (1,3), b3, drawn in the course's order."""
    params = {}
    for l, (n, n_prev) in enumerate([(2, 3), (3, 2), (1, 3)], start=1):
        params[f"W{l}"] = state.randn(n, n_prev)
        params[f"b{l}"] = state.randn(n, 1)
    return params


def assess_case():
    """np.random.seed(1); X = randn(3, 5); then the parameters (the course's
    forward/backward test cases for regularisation and dropout)."""
    state = np.random.RandomState(1)
    X = state.randn(3, 5)
    return X, Y_ASSESS, three_layer_params(state)


def numeric_gradient(f, params: dict[str, np.ndarray], eps: float = 1e-6) -> dict[str, np.ndarray]:
    """Two-sided differences of f(params) -> float, one coordinate at a time."""
    grads = {}
    for name, value in params.items():
        g = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            old = value[idx]
            value[idx] = old + eps
            plus = f(params)
            value[idx] = old - eps
            minus = f(params)
            value[idx] = old
            g[idx] = (plus - minus) / (2 * eps)
        grads[name] = g
    return grads


def rel_error(a: dict, b: dict) -> float:
    """||a - b|| / (||a|| + ||b||) over all arrays together."""
    va = np.concatenate([a[k].ravel() for k in sorted(a)])
    vb = np.concatenate([b[k].ravel() for k in sorted(a)])
    denom = np.linalg.norm(va) + np.linalg.norm(vb)
    return 0.0 if denom == 0 else float(np.linalg.norm(va - vb) / denom)
