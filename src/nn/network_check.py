"""The network's cost for gradient checking: ``check_model(params, X, Y, lambd)``.

Backprop (``model.backward``) against finite differences of ``model.cost`` without
dropout (its random masks would make the cost random), for sigmoid or softmax
outputs, with or without batch norm (checked in training mode: the cost of a
batch-norm net is that of its batch statistics, which backprop differentiates).
The verdict is ``gradient_check``'s one rule; the cost's rounding scale is the
largest of |J| and the logits, whose log-sum-exp terms the loss sums.
"""
from __future__ import annotations

import numpy as np

from .batchnorm import batchnorm_forward_train
from .gradient_check import THRESHOLD, CostFn, GradcheckResult, ShiftedCosts, check_gradients
from .loss import l2_penalty
from .model import backward, cost, forward, is_buffer, num_layers, trainable


def model_cost(X: np.ndarray, Y: np.ndarray, lambd: float = 0.0, *, buffers: dict[str, np.ndarray] | None = None) -> CostFn:
    """params -> cross-entropy + L2 of the network on X (n_x, m), Y (1, m), no dropout.

    buffers: a batch-norm model's running statistics and epsilon, held fixed while
    ``params`` (its trainable part) moves; the cost is then the training-mode one,
    normalised with the batch's own statistics, as backprop differentiates it.
    """
    if not buffers:
        return lambda params: cost(forward(X, params)[0], Y, params, lambd)
    return lambda params: cost(forward(X, {**buffers, **params}, training=True)[0], Y, params, lambd)


def _batched_loss(ZL: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Data loss of each of a batch of logit matrices ZL (B, K, m): binary log-loss
    for K = 1, categorical cross-entropy (log-sum-exp) for K >= 2."""
    m = ZL.shape[2]
    if ZL.shape[1] == 1:
        return np.sum(np.logaddexp(0.0, ZL) - Y * ZL, axis=(1, 2)) / m
    ids = (Y.argmax(axis=0) if Y.shape[0] > 1 else Y[0]).astype(np.int64)
    top = ZL.max(axis=1, keepdims=True)
    log_sum_exp = top[:, 0, :] + np.log(np.exp(ZL - top).sum(axis=1))
    return np.sum(log_sum_exp - ZL[:, ids, np.arange(m)], axis=1) / m


def model_shifted_costs(X: np.ndarray, Y: np.ndarray, lambd: float = 0.0, max_floats: int = 1 << 21, *,
                        buffers: dict[str, np.ndarray] | None = None) -> ShiftedCosts:
    """Vectorised ``ShiftedCosts`` for the network: many one-entry shifts per numpy call.

    Moving entry (r, c) of W_l (or r of b_l, gamma_l, beta_l) changes only row r of
    Z_l (batch norm normalises each row on its own), so the layers below are reused
    and Z_{l+1} moves by the rank-one term W_{l+1}[:, r] (A_l[r] shifted - A_l[r]);
    the layers above are recomputed for a batch of shifts at once. max_floats bounds
    the batch. Sigmoid or softmax output; ``buffers``: a batch-norm model's running
    statistics and epsilon (checked in training mode, as ``model_cost`` costs it).
    """
    m = Y.shape[1]
    epsilon = float(buffers["bn_epsilon"]) if buffers else None

    def linear(params, l, A):
        Z = params[f"W{l}"] @ A
        return Z + params[f"b{l}"] if f"b{l}" in params else Z  # a batch-norm layer has no b

    def normalised(params, l, Z, rows=slice(None)):
        """Z_l after the layer's batch norm (rows ``rows`` of it), as is without one."""
        if f"gamma{l}" not in params:
            return Z
        return batchnorm_forward_train(Z, params[f"gamma{l}"][rows], params[f"beta{l}"][rows], epsilon)[0]

    def shifted(params, name, flat, steps):
        L = num_layers(params)
        kind = name.rstrip("0123456789")  # W, b, gamma or beta
        layer = int(name[len(kind):])
        A, Z = [X], []  # A[l] = A_l (A[0] = X), Z[l - 1] = Z_l before batch norm
        for l in range(1, L + 1):
            Z.append(linear(params, l, A[-1]))
            if l < L:
                A.append(np.maximum(normalised(params, l, Z[-1]), 0))
        rows, cols = np.unravel_index(flat, params[name].shape)
        width = max(z.shape[0] for z in Z)
        batch = max(1, max_floats // (width * m))
        costs = np.empty(len(flat))
        for start in range(0, len(flat), batch):
            r, c, s = rows[start : start + batch], cols[start : start + batch], steps[start : start + batch]
            z_rows = Z[layer - 1][r]
            if kind == "W":
                z_rows = z_rows + s[:, None] * A[layer - 1][c]
            elif kind == "b":
                z_rows = z_rows + s[:, None]
            if layer == L:
                ZL = np.repeat(Z[L - 1][None], len(r), axis=0)
                ZL[np.arange(len(r)), r] = z_rows
            else:
                if kind in ("gamma", "beta"):
                    z_hat = batchnorm_forward_train(z_rows, 1.0, 0.0, epsilon)[0]
                    gamma, beta = params[f"gamma{layer}"][r], params[f"beta{layer}"][r]
                    moved = (gamma + s[:, None]) * z_hat + beta if kind == "gamma" else gamma * z_hat + (beta + s[:, None])
                else:
                    moved = normalised(params, layer, z_rows, r)
                dA = np.maximum(moved, 0) - A[layer][r]
                ZL = Z[layer][None] + params[f"W{layer + 1}"][:, r].T[:, :, None] * dA[:, None, :]
                for l in range(layer + 2, L + 1):
                    ZL = linear(params, l, np.maximum(normalised(params, l - 1, ZL), 0))
            costs[start : start + batch] = _batched_loss(ZL, Y)
        if lambd:
            squares = sum(np.sum(np.square(W)) for key, W in params.items() if key.startswith("W"))
            if kind == "W":
                w = params[name].reshape(-1)[flat]
                squares = squares + steps * (2 * w + steps)  # (w + s)^2 - w^2, without cancellation
            costs = costs + l2_penalty(squares, lambd, m)
        return costs

    return shifted


def param_name(name: str, names) -> str | None:
    """``name`` if it is a parameter, the parameter behind a gradient name (dW2 -> W2), else None."""
    if name in names:
        return name
    if name.startswith("d") and name[1:] in names:
        return name[1:]
    return None


def check_model(
    params: dict[str, np.ndarray],
    X: np.ndarray,
    Y: np.ndarray,
    lambd: float = 0.0,
    *,
    epsilon: float = 1e-7,
    threshold: float = THRESHOLD,
    subset: int | None = None,
    seed: int = 0,
    inject: str | None = None,
    inject_factor: float = 2.0,
    vectorised: bool = True,
    grads: dict[str, np.ndarray] | None = None,
) -> GradcheckResult:
    """Check the network's backward pass (no dropout) at ``params`` on X (n_x, m), Y (1, m).

    grads: the gradients to check; by default ``src.nn.model.backward``'s.
    inject: plant a bug by multiplying that gradient (``W2`` or ``dW2``) by inject_factor.
    A batch-norm model is checked in training mode, on its trainable arrays (W, b,
    gamma, beta); its running statistics have no gradient and stay fixed.
    """
    buffers = {name: value for name, value in params.items() if is_buffer(name)}
    params = trainable(params)
    if grads is None:
        ZL, caches = forward(X, {**buffers, **params}, training=True)
        grads = backward(ZL, Y, caches, lambd)
    if inject is not None:
        target = param_name(inject, params)
        if target is None:
            raise KeyError(f"inject: unknown parameter {inject!r} (choose from {', '.join(params)})")
        grads = {**grads, target: grads[target] * inject_factor}
    cost_fn = model_cost(X, Y, lambd, buffers=buffers)
    ZL = forward(X, {**buffers, **params}, training=bool(buffers))[0]
    return check_gradients(
        cost_fn,
        params,
        grads,
        epsilon,
        threshold,
        subset=subset,
        seed=seed,
        shifted_costs=model_shifted_costs(X, Y, lambd, buffers=buffers) if vectorised else None,
        cost_scale=max(abs(cost_fn(params)), float(np.abs(ZL).max(initial=0.0))),
    )
