"""Batch normalization of a hidden layer's Z, before its activation (course 2, week 3).

Shapes (course layout): ``Z: (n, m)``, ``gamma, beta, running_mean, running_var: (n, 1)``;
statistics are per unit (row), over the m examples of the batch (columns).

Training (mini-batch statistics):
    mu = mean(Z),  var = mean((Z - mu)^2)          (the biased 1/m variance, as the notes write it)
    Z_hat = (Z - mu) / sqrt(var + epsilon)         (epsilon: no division by ~0 for a constant unit)
    Z_tilde = gamma * Z_hat + beta                 (gamma, beta learned: the layer may undo the
                                                    normalisation if that is what lowers the cost)
Prediction (one example has no batch statistics, so use the training ones):
    Z_tilde = gamma * (Z - running_mean) / sqrt(running_var + epsilon) + beta
    running_x <- momentum * running_x + (1 - momentum) * x   after every training step,
    for x = mu and var: the exponentially weighted average of the notes.

A bias b before the layer is redundant: Z + b has mean mu + b, so b cancels in
Z - mu and its gradient is exactly 0; beta plays its role. The model therefore
gives batch-norm layers no b (see ``model.py``).

Backward in training mode. With dZ_hat = dZ_tilde * gamma and sums over the m columns:
    dbeta  = sum(dZ_tilde)
    dgamma = sum(dZ_tilde * Z_hat)
    dvar   = sum(dZ_hat * (Z - mu)) * -1/2 (var + eps)^(-3/2)
    dmu    = -sum(dZ_hat) / sqrt(var + eps)           (+ dvar * mean(-2 (Z - mu)) = 0)
    dZ     = dZ_hat / sqrt(var + eps) + dvar * 2 (Z - mu) / m + dmu / m
which, writing (Z - mu) = Z_hat sqrt(var + eps), collapses to
    dZ = 1 / (m sqrt(var + eps)) * (m dZ_hat - sum(dZ_hat) - Z_hat * sum(dZ_hat * Z_hat)).
In prediction mode mu and var are constants: dZ = dZ_hat / sqrt(running_var + eps).
"""
from __future__ import annotations

import numpy as np

EPSILON = 1e-5   # inside the square root; the common default (PyTorch, Keras use 1e-5/1e-3)
MOMENTUM = 0.9   # weight of the old running average, the notes' beta for an EWMA


def batchnorm_forward_train(Z: np.ndarray, gamma: np.ndarray, beta: np.ndarray, epsilon: float = EPSILON):
    """Normalise with the batch's own statistics.

    Returns ``(Z_tilde, cache, (mu, var))``: the batch mean and variance go to
    ``update_running`` so prediction can use their running averages.
    """
    # Statistics over the last axis (the examples): a stack of Z's (the vectorised
    # gradient check's shifted copies, (B, n, m)) is normalised copy by copy.
    mu = Z.mean(axis=-1, keepdims=True)
    centred = Z - mu
    var = np.mean(centred * centred, axis=-1, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + epsilon)
    Z_hat = centred * inv_std
    return gamma * Z_hat + beta, ("train", Z_hat, gamma, inv_std), (mu, var)


def batchnorm_forward_eval(
    Z: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    running_mean: np.ndarray,
    running_var: np.ndarray,
    epsilon: float = EPSILON,
):
    """Normalise with the running statistics: each column is treated on its own,
    so an example gets the same output alone as inside any batch."""
    inv_std = 1.0 / np.sqrt(running_var + epsilon)
    Z_hat = (Z - running_mean) * inv_std
    return gamma * Z_hat + beta, ("eval", Z_hat, gamma, inv_std)


def batchnorm_backward(dout: np.ndarray, cache):
    """(dZ, dgamma, dbeta) for either forward; dout may already carry the loss's 1/m."""
    mode, Z_hat, gamma, inv_std = cache
    dbeta = dout.sum(axis=1, keepdims=True)
    dgamma = np.sum(dout * Z_hat, axis=1, keepdims=True)
    dZ_hat = dout * gamma
    if mode == "eval":
        return dZ_hat * inv_std, dgamma, dbeta
    m = dout.shape[1]
    dZ = (inv_std / m) * (
        m * dZ_hat - dZ_hat.sum(axis=1, keepdims=True) - Z_hat * np.sum(dZ_hat * Z_hat, axis=1, keepdims=True)
    )
    return dZ, dgamma, dbeta


def update_running(running: np.ndarray, batch: np.ndarray, momentum: float = MOMENTUM) -> np.ndarray:
    """One step of the exponentially weighted average: momentum * running + (1 - momentum) * batch."""
    return momentum * running + (1.0 - momentum) * batch
