"""Weight initialisers, looked up by name: ``INITIALIZERS["he"]``.

Each initialiser maps ``(normal, n, n_prev)`` to a weight matrix of shape
``(n, n_prev)``, where ``normal(shape)`` draws standard normals. Biases are
always zero. The arithmetic is written exactly as the course writes it
(``randn * sqrt(2/n_prev)`` for He, ``randn / sqrt(n_prev)`` for Xavier) so
that course mode is bit-identical to the published runs.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

Normal = Callable[[tuple[int, int]], np.ndarray]


def zeros(normal: Normal, n: int, n_prev: int) -> np.ndarray:
    # Draws nothing, as the course does: zero init must not consume randomness.
    return np.zeros((n, n_prev))


def random_x10(normal: Normal, n: int, n_prev: int) -> np.ndarray:
    return normal((n, n_prev)) * 10


def he(normal: Normal, n: int, n_prev: int) -> np.ndarray:
    return normal((n, n_prev)) * np.sqrt(2.0 / n_prev)


def xavier(normal: Normal, n: int, n_prev: int) -> np.ndarray:
    return normal((n, n_prev)) / np.sqrt(n_prev)


def glorot(normal: Normal, n: int, n_prev: int) -> np.ndarray:
    return normal((n, n_prev)) * np.sqrt(2.0 / (n_prev + n))


INITIALIZERS: dict[str, Callable[[Normal, int, int], np.ndarray]] = {
    "zeros": zeros,
    "random": random_x10,
    "he": he,
    "xavier": xavier,
    "glorot": glorot,
}


def initialize(layer_dims: list[int], scheme: str, normal: Normal) -> dict[str, np.ndarray]:
    """Parameters ``W1, b1, ..., WL, bL`` for ``layer_dims = [n_x, n_1, ..., n_L]``.

    Layers are drawn in order W1, W2, ... (the order the course draws them).
    """
    init = INITIALIZERS[scheme]
    params: dict[str, np.ndarray] = {}
    for l in range(1, len(layer_dims)):
        params[f"W{l}"] = init(normal, layer_dims[l], layer_dims[l - 1])
        params[f"b{l}"] = np.zeros((layer_dims[l], 1))
    return params
