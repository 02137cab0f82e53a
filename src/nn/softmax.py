"""Softmax output layer and categorical cross-entropy, for K >= 2 classes.

Shapes (course layout): logits ``Z: (K, m)``; labels ``Y: (1, m)`` integer class
ids in 0..K-1 (a ``(K, m)`` one-hot matrix is accepted too, see ``one_hot``).

    softmax(z)_k = e^(z_k - max z) / sum_j e^(z_j - max z)

Subtracting the column's max changes nothing mathematically (it cancels between
numerator and denominator) but keeps every exponent <= 0, so nothing overflows.
The loss is computed from the logits in log-sum-exp form,

    -log softmax(z)_y = logsumexp(z) - z_y,    logsumexp(z) = max z + log sum_j e^(z_j - max z),

which stays finite even when softmax(z)_y underflows to 0 (the same reason the
binary loss in ``loss.py`` works from the logits). With K = 2 and z = (0, s)
this is exactly the binary log-loss of the sigmoid logit s.

Gradients, with P = softmax(Z) and T = one_hot(Y):
    softmax alone:     dZ = P * (dA - sum_k dA_k P_k)          (Jacobian-vector product)
    fused with loss:   d cost / d Z = (P - T) / m              (the notes' dz = y_hat - y)
"""
from __future__ import annotations

import numpy as np


def one_hot(Y: np.ndarray, K: int) -> np.ndarray:
    """(1, m) class ids -> (K, m) float one-hot; a (K, m) matrix is returned as is."""
    Y = np.asarray(Y)
    if Y.shape[0] == K and K > 1:
        return Y.astype(float)
    ids = Y.reshape(-1).astype(np.int64)
    T = np.zeros((K, ids.size))
    T[ids, np.arange(ids.size)] = 1.0
    return T


def log_softmax(Z: np.ndarray) -> np.ndarray:
    shifted = Z - Z.max(axis=0, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))


def softmax(Z: np.ndarray) -> np.ndarray:
    shifted = np.exp(Z - Z.max(axis=0, keepdims=True))
    return shifted / shifted.sum(axis=0, keepdims=True)


def softmax_forward(Z: np.ndarray):
    A = softmax(Z)
    return A, A


def softmax_backward(dA: np.ndarray, cache) -> np.ndarray:
    """Jacobian-vector product of softmax: dA_k' -> sum_k dA_k P_k (delta_kk' - P_k')."""
    P = cache
    return P * (dA - np.sum(dA * P, axis=0, keepdims=True))


def softmax_cross_entropy(ZL: np.ndarray, Y: np.ndarray) -> float:
    """Mean categorical cross-entropy over the m columns, from the logits ZL (K, m)."""
    T = one_hot(Y, ZL.shape[0])
    return float(-np.sum(T * log_softmax(ZL)) / ZL.shape[1])


def softmax_cross_entropy_backward(ZL: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """d cost / d ZL = (softmax(ZL) - one_hot(Y)) / m (softmax and loss fused)."""
    return (softmax(ZL) - one_hot(Y, ZL.shape[0])) / ZL.shape[1]


def predict_classes(ZL: np.ndarray) -> np.ndarray:
    """(1, m) int64 class ids: the argmax over the K rows (ties -> lowest id)."""
    return np.argmax(ZL, axis=0).reshape(1, -1).astype(np.int64)
