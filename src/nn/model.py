"""The L-layer network: [LINEAR -> RELU (-> DROPOUT)] x (L-1) -> LINEAR -> SIGMOID.

``params`` holds ``W1, b1, ..., WL, bL``; ``grads`` uses the same keys
(``grads["W1"]`` is d cost / d W1), which is what gradient checking expects.
"""
from __future__ import annotations

import numpy as np

from .dropout import dropout_backward, dropout_forward
from .layers import linear_backward, linear_forward, relu_backward, relu_forward, sigmoid
from .loss import cross_entropy, cross_entropy_backward, l2_cost, l2_grad


def num_layers(params: dict[str, np.ndarray]) -> int:
    return len(params) // 2


def layer_dims(params: dict[str, np.ndarray]) -> list[int]:
    L = num_layers(params)
    return [params["W1"].shape[1]] + [params[f"W{l}"].shape[0] for l in range(1, L + 1)]


def forward(X: np.ndarray, params: dict[str, np.ndarray], masks=None, keep_prob: float = 1.0):
    """Logits ZL of shape (1, m) and the caches for ``backward``.

    masks: one boolean array per hidden layer (shape (n_l, m)) to apply inverted
    dropout with ``keep_prob``, or None for no dropout.
    """
    L = num_layers(params)
    caches = []
    A = X
    for l in range(1, L):
        Z, linear_cache = linear_forward(A, params[f"W{l}"], params[f"b{l}"])
        A, relu_cache = relu_forward(Z)
        dropout_cache = None
        if masks is not None:
            A, dropout_cache = dropout_forward(A, masks[l - 1], keep_prob)
        caches.append((linear_cache, relu_cache, dropout_cache))
    ZL, linear_cache = linear_forward(A, params[f"W{L}"], params[f"b{L}"])
    caches.append((linear_cache, None, None))
    return ZL, caches


def cost(ZL: np.ndarray, Y: np.ndarray, params: dict[str, np.ndarray], lambd: float = 0.0) -> float:
    """Cross-entropy plus the L2 penalty."""
    return cross_entropy(ZL, Y) + l2_cost(params, lambd, Y.shape[1])


def backward(ZL: np.ndarray, Y: np.ndarray, caches, lambd: float = 0.0) -> dict[str, np.ndarray]:
    """Gradients of ``cost`` with respect to every parameter, keyed like params."""
    m = Y.shape[1]
    L = len(caches)
    grads: dict[str, np.ndarray] = {}
    dZ = cross_entropy_backward(ZL, Y)
    for l in range(L, 0, -1):
        linear_cache, relu_cache, dropout_cache = caches[l - 1]
        if l < L:
            if dropout_cache is not None:
                dA = dropout_backward(dA, dropout_cache)
            dZ = relu_backward(dA, relu_cache)
        dA, dW, db = linear_backward(dZ, linear_cache)
        if lambd:
            dW = dW + l2_grad(linear_cache[1], lambd, m)
        grads[f"W{l}"], grads[f"b{l}"] = dW, db
    return grads


def predict_proba(X: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
    """A_L = sigmoid(ZL), without dropout."""
    return sigmoid(forward(X, params)[0])


def predict(X: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
    """Labels (1, m) as 0/1 integers: A_L > 0.5."""
    return (predict_proba(X, params) > 0.5).astype(np.int64)


def accuracy(X: np.ndarray, Y: np.ndarray, params: dict[str, np.ndarray]) -> float:
    """Fraction of columns predicted correctly."""
    return float(np.mean(predict(X, params) == Y))
