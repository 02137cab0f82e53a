"""Full-batch gradient descent on preallocated buffers: the hot loop of the
course models (sigmoid output, no batch norm, plain gd, full batch).

It performs the arithmetic of ``model.forward`` / ``model.backward`` and
``optimizers.gd_update`` operation for operation, so its results are
bit-identical (tests/nn/test_fast_gd.py). What it saves is everything around
the arithmetic, which dominates for these tiny matrices (a numpy call on a
20 x 211 array costs about as much as the work in it): every array lives in a
buffer made once and is written with ``out=``; parameters and gradients are
views into two flat vectors, so the update is one in-place operation instead
of one per array; no caches, dicts or tuples are built per iteration.
``np.dot`` calls the same BLAS routine as ``@`` (same bits) with less dispatch
work, and the labels are held as floats, which is what ``A - Y`` casts them to.
"""
from __future__ import annotations

import numpy as np

from ..loss import cross_entropy, l2_cost

EXP_OVERFLOWS_ABOVE = np.log(np.finfo(np.float64).max)  # ~709.78


class FullBatchGD:
    """Holds the buffers of one training run; ``step`` does one iteration."""

    def __init__(self, params: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray, lambd: float, keep_prob: float):
        self.L = L = sum(1 for name in params if name[0] == "W")
        self.names = [name for l in range(1, L + 1) for name in (f"W{l}", f"b{l}")]
        sizes = [params[name].size for name in self.names]
        self.flat = np.concatenate([params[name].ravel() for name in self.names]).astype(np.float64)
        self.grad = np.empty_like(self.flat)
        self.scaled = np.empty_like(self.flat)
        self.views = {}
        self.grads = {}
        offset = 0
        for name, size in zip(self.names, sizes):
            shape = params[name].shape
            self.views[name] = self.flat[offset : offset + size].reshape(shape)
            self.grads[name] = self.grad[offset : offset + size].reshape(shape)
            offset += size
        self.W = [None] + [self.views[f"W{l}"] for l in range(1, L + 1)]
        self.b = [None] + [self.views[f"b{l}"] for l in range(1, L + 1)]
        self.gW = [None] + [self.grads[f"W{l}"] for l in range(1, L + 1)]
        self.gb = [None] + [self.grads[f"b{l}"] for l in range(1, L + 1)]
        m = X.shape[1]
        self.X, self.Y, self.m = X, Y.astype(np.float64), m
        self.lambd, self.keep_prob = lambd, keep_prob
        rows = [W.shape[0] for W in self.W[1:]]
        # per layer l = 1..L: Z, A (post ReLU and dropout), Z > 0, dA / dZ
        self.Z = [None] + [np.empty((n, m)) for n in rows]
        self.A = [X] + [np.empty((n, m)) for n in rows[:-1]]
        self.positive = [None] + [np.empty((n, m), dtype=bool) for n in rows[:-1]]
        self.dA = [None] + [np.empty((n, m)) for n in rows[:-1]]
        self.dZ = [None] + [np.empty((n, m)) for n in rows]
        self.AL = np.empty((rows[-1], m))
        self.l2 = [None] + [np.empty_like(W) for W in self.W[1:]]
        # transposed views, made once: W_l^T for dA, A_{l-1}^T for dW
        self.WT = [None] + [W.T for W in self.W[1:]]
        self.AT = [A.T for A in self.A]
        self._masks = self._float_masks = None

    def params(self) -> dict[str, np.ndarray]:
        return {name: self.views[name].copy() for name in self.names}

    def step(self, learning_rate: float, masks=None, want_cost: bool = False) -> float | None:
        """One iteration. Returns the cost of its forward pass when asked."""
        L, m, kp = self.L, self.m, self.keep_prob
        Z, A, positive = self.Z, self.A, self.positive
        if masks is not None and masks is not self._masks:
            # x * True == x * 1.0 bit for bit, and a float mask multiplies without a
            # cast; course mode hands the very same masks every pass, so this is once.
            self._masks, self._float_masks = masks, [mask.astype(np.float64) for mask in masks]
        masks = self._float_masks if masks is not None else None
        for l in range(1, L):
            np.dot(self.W[l], A[l - 1], out=Z[l])
            np.add(Z[l], self.b[l], out=Z[l])
            np.maximum(Z[l], 0.0, out=A[l])
            np.greater(Z[l], 0.0, out=positive[l])
            if masks is not None:
                np.multiply(A[l], masks[l - 1], out=A[l])
                np.divide(A[l], kp, out=A[l])
        ZL, AL = Z[L], self.AL
        np.dot(self.W[L], A[L - 1], out=ZL)
        np.add(ZL, self.b[L], out=ZL)
        value = None
        if want_cost:
            value = cross_entropy(ZL, self.Y) + l2_cost(self.views, self.lambd, m)
        # sigmoid as layers.sigmoid computes it: 1 / (1 + exp(-Z))
        np.negative(ZL, out=AL)
        if AL.max() > EXP_OVERFLOWS_ABOVE:  # saturated: inf gives the right 0, silence the warning
            with np.errstate(over="ignore"):
                np.exp(AL, out=AL)
        else:  # errstate costs more than this whole layer's exp
            np.exp(AL, out=AL)
        np.add(1.0, AL, out=AL)
        np.divide(1.0, AL, out=AL)
        dZ = self.dZ[L]
        np.subtract(AL, self.Y, out=dZ)
        np.divide(dZ, m, out=dZ)
        for l in range(L, 0, -1):
            np.dot(dZ, self.AT[l - 1], out=self.gW[l])
            if self.lambd:
                np.multiply(self.lambd / m, self.W[l], out=self.l2[l])
                np.add(self.gW[l], self.l2[l], out=self.gW[l])
            np.add.reduce(dZ, axis=1, keepdims=True, out=self.gb[l])
            if l > 1:
                dA = self.dA[l - 1]
                np.dot(self.WT[l], dZ, out=dA)
                if masks is not None:
                    np.multiply(dA, masks[l - 2], out=dA)
                    np.divide(dA, kp, out=dA)
                dZ = self.dZ[l - 1]
                np.multiply(dA, positive[l - 1], out=dZ)
        np.multiply(learning_rate, self.grad, out=self.scaled)
        np.subtract(self.flat, self.scaled, out=self.flat)
        return value
