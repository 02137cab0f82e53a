"""Inverted dropout: keep each unit with probability keep_prob and scale the
survivors by 1/keep_prob, so the expected activation is unchanged and
prediction needs no rescaling (dropout is never applied at prediction time).

The mask is drawn outside (see ``src/randomness.py``) so this stays pure.
"""
from __future__ import annotations

import numpy as np


def dropout_forward(A: np.ndarray, mask: np.ndarray, keep_prob: float):
    """mask: boolean array shaped like A, True where the unit is kept."""
    return A * mask / keep_prob, (mask, keep_prob)


def dropout_backward(dA: np.ndarray, cache) -> np.ndarray:
    """The same units are shut off and the same 1/keep_prob scale applied."""
    mask, keep_prob = cache
    return dA * mask / keep_prob
