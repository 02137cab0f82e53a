"""The L-layer network:
[LINEAR -> (BATCHNORM ->) RELU (-> DROPOUT)] x (L-1) -> LINEAR -> SIGMOID | SOFTMAX.

``params`` holds ``W1, b1, ..., WL, bL``; ``grads`` uses the same keys
(``grads["W1"]`` is d cost / d W1), which is what gradient checking expects.

The output is read off the parameters, so every function here works on any model:
- ``WL`` with one row: sigmoid and binary log-loss, labels Y (1, m) in {0, 1},
  prediction ``A_L > 0.5`` (the course's model, kept bit for bit);
- ``WL`` with K >= 2 rows: softmax and categorical cross-entropy over K classes,
  labels Y (1, m) class ids 0..K-1, prediction argmax (``softmax.py``).

Batch normalization (``add_batch_norm``) on hidden layer l replaces its ``b_l``
by ``gamma_l`` and ``beta_l``: BN subtracts the batch mean of Z_l = W_l A_{l-1},
which cancels any bias exactly, and beta_l is the learned shift instead. The
layer's running statistics ``running_mean_l``, ``running_var_l`` and the model's
``bn_epsilon`` (a 0-d array) live in ``params`` too, so a saved model predicts on
its own, but they are buffers, not parameters: no gradient, no optimizer step, no
L2 (``trainable`` filters them out); training updates them with
``update_running_stats`` after each step. ``forward(..., training=True)``
normalises with the batch's statistics, the default (prediction) with the
running ones.
"""
from __future__ import annotations

import numpy as np

from .batchnorm import (
    EPSILON, MOMENTUM, batchnorm_backward, batchnorm_forward_eval, batchnorm_forward_train, update_running,
)
from .dropout import dropout_backward, dropout_forward
from .layers import linear_backward, linear_forward, relu_backward, relu_forward, sigmoid
from .loss import cross_entropy, cross_entropy_backward, l2_cost, l2_grad
from .softmax import predict_classes, softmax, softmax_cross_entropy, softmax_cross_entropy_backward

OUTPUTS = ("auto", "sigmoid", "softmax")


def num_layers(params: dict[str, np.ndarray]) -> int:
    return sum(1 for name in params if name[0] == "W")


def layer_dims(params: dict[str, np.ndarray]) -> list[int]:
    L = num_layers(params)
    return [params["W1"].shape[1]] + [params[f"W{l}"].shape[0] for l in range(1, L + 1)]


def is_buffer(name: str) -> bool:
    """Running statistics and epsilon of batch norm: stored with the model, never trained."""
    return name.startswith("running_") or name == "bn_epsilon"


def trainable(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The parameters that have gradients (all of them for a model without batch norm)."""
    return {name: value for name, value in params.items() if not is_buffer(name)}


def has_batch_norm(params: dict[str, np.ndarray]) -> bool:
    return "bn_epsilon" in params


def num_classes(params: dict[str, np.ndarray]) -> int:
    """2 for the sigmoid model, K for a K-way softmax."""
    return max(2, params[f"W{num_layers(params)}"].shape[0])


def output_units(classes: int, output: str = "auto") -> int:
    """Rows of WL: 1 (sigmoid) or K (softmax). ``auto`` keeps the sigmoid for two classes."""
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")
    if output == "sigmoid" and classes != 2:
        raise ValueError(f"a sigmoid output needs 2 classes, got {classes}")
    if output == "softmax" or (output == "auto" and classes > 2):
        return classes
    return 1


def add_batch_norm(params: dict[str, np.ndarray], epsilon: float = EPSILON) -> dict[str, np.ndarray]:
    """The same network with batch norm on every hidden layer: b_l dropped,
    gamma_l = 1, beta_l = 0 (start as plain standardisation), running mean 0,
    running variance 1. The weights are kept, so no randomness is drawn."""
    L = num_layers(params)
    out: dict[str, np.ndarray] = {}
    for l in range(1, L + 1):
        out[f"W{l}"] = params[f"W{l}"]
        n = params[f"W{l}"].shape[0]
        if l < L:
            out[f"gamma{l}"], out[f"beta{l}"] = np.ones((n, 1)), np.zeros((n, 1))
            out[f"running_mean{l}"], out[f"running_var{l}"] = np.zeros((n, 1)), np.ones((n, 1))
        else:
            out[f"b{l}"] = params[f"b{l}"]
    out["bn_epsilon"] = np.array(float(epsilon))
    return out


def forward(X: np.ndarray, params: dict[str, np.ndarray], masks=None, keep_prob: float = 1.0, *, training: bool = False):
    """Logits ZL of shape (1, m) (sigmoid model) or (K, m) (softmax), and the caches for ``backward``.

    masks: one boolean array per hidden layer (shape (n_l, m)) to apply inverted
    dropout with ``keep_prob``, or None for no dropout.
    training: batch-norm layers use the batch's statistics (and the caches carry
    them for ``update_running_stats``); otherwise the running ones. No effect
    on a model without batch norm.
    """
    L = num_layers(params)
    caches = []
    A = X
    for l in range(1, L):
        bn_cache = stats = None
        if f"gamma{l}" in params:
            W = params[f"W{l}"]
            Z, linear_cache = W @ A, (A, W)
            gamma, beta, epsilon = params[f"gamma{l}"], params[f"beta{l}"], float(params["bn_epsilon"])
            if training:
                Z, bn_cache, stats = batchnorm_forward_train(Z, gamma, beta, epsilon)
            else:
                Z, bn_cache = batchnorm_forward_eval(
                    Z, gamma, beta, params[f"running_mean{l}"], params[f"running_var{l}"], epsilon)
        else:
            Z, linear_cache = linear_forward(A, params[f"W{l}"], params[f"b{l}"])
        A, relu_cache = relu_forward(Z)
        dropout_cache = None
        if masks is not None:
            A, dropout_cache = dropout_forward(A, masks[l - 1], keep_prob)
        # (linear, relu, dropout) as ever; batch-norm layers append (bn, batch statistics).
        layer_cache = (linear_cache, relu_cache, dropout_cache)
        caches.append(layer_cache if bn_cache is None else (*layer_cache, bn_cache, stats))
    ZL, linear_cache = linear_forward(A, params[f"W{L}"], params[f"b{L}"])
    caches.append((linear_cache, None, None))
    return ZL, caches


def data_loss(ZL: np.ndarray, Y: np.ndarray) -> float:
    """Binary log-loss for one output row, categorical cross-entropy for K rows."""
    return cross_entropy(ZL, Y) if ZL.shape[0] == 1 else softmax_cross_entropy(ZL, Y)


def cost(ZL: np.ndarray, Y: np.ndarray, params: dict[str, np.ndarray], lambd: float = 0.0) -> float:
    """Cross-entropy plus the L2 penalty (on the W's only)."""
    return data_loss(ZL, Y) + l2_cost(params, lambd, Y.shape[1])


def backward(ZL: np.ndarray, Y: np.ndarray, caches, lambd: float = 0.0) -> dict[str, np.ndarray]:
    """Gradients of ``cost`` with respect to every trainable parameter, keyed like params."""
    m = Y.shape[1]
    L = len(caches)
    grads: dict[str, np.ndarray] = {}
    dZ = cross_entropy_backward(ZL, Y) if ZL.shape[0] == 1 else softmax_cross_entropy_backward(ZL, Y)
    for l in range(L, 0, -1):
        linear_cache, relu_cache, dropout_cache, *bn = caches[l - 1]
        bn_cache = bn[0] if bn else None
        if l < L:
            if dropout_cache is not None:
                dA = dropout_backward(dA, dropout_cache)
            dZ = relu_backward(dA, relu_cache)
            if bn_cache is not None:
                dZ, grads[f"gamma{l}"], grads[f"beta{l}"] = batchnorm_backward(dZ, bn_cache)
        dA, dW, db = linear_backward(dZ, linear_cache)
        if lambd:
            dW = dW + l2_grad(linear_cache[1], lambd, m)
        grads[f"W{l}"] = dW
        if bn_cache is None:
            grads[f"b{l}"] = db
    return grads


def update_running_stats(params: dict[str, np.ndarray], caches, momentum: float = MOMENTUM) -> dict[str, np.ndarray]:
    """params with each batch-norm layer's running mean and variance moved towards
    the statistics of the training-mode forward pass that made ``caches``.
    A model without batch norm is returned as is (the very same dict)."""
    if not has_batch_norm(params):
        return params
    params = dict(params)
    for l, layer_cache in enumerate(caches, start=1):
        if len(layer_cache) == 5 and layer_cache[4] is not None:
            mu, var = layer_cache[4]
            params[f"running_mean{l}"] = update_running(params[f"running_mean{l}"], mu, momentum)
            params[f"running_var{l}"] = update_running(params[f"running_var{l}"], var, momentum)
    return params


def predict_proba(X: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
    """A_L without dropout: sigmoid(ZL) (1, m), or softmax(ZL) (K, m) class probabilities."""
    ZL = forward(X, params)[0]
    return sigmoid(ZL) if ZL.shape[0] == 1 else softmax(ZL)


def predict(X: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
    """Labels (1, m) as integers: A_L > 0.5 (sigmoid), or the argmax class (softmax)."""
    ZL = forward(X, params)[0]
    if ZL.shape[0] == 1:
        return (sigmoid(ZL) > 0.5).astype(np.int64)
    return predict_classes(ZL)


def accuracy(X: np.ndarray, Y: np.ndarray, params: dict[str, np.ndarray]) -> float:
    """Fraction of columns predicted correctly."""
    return float(np.mean(predict(X, params) == Y))


def confusion_matrix(X: np.ndarray, Y: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
    """(K, K) counts: entry [i, j] = examples of true class i predicted as j."""
    K = max(num_classes(params), int(Y.max(initial=0)) + 1)
    pairs = Y.reshape(-1).astype(np.int64) * K + predict(X, params).reshape(-1)
    return np.bincount(pairs, minlength=K * K).reshape(K, K)
