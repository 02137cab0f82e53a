"""Full-batch gradient descent compiled with numba: the course's case (sigmoid
output, no batch norm, plain gd, full batch) without numpy's per-call cost.

``FullBatchGD`` (numpy_buffers.py) already does the least numpy can: about 30 calls an
iteration, but each costs 1-2.5 us on a 20 x 211 array while the arithmetic of a
whole iteration is ~2 us. Here one compiled function does the whole iteration
(or many), so the per-call cost is paid once, and the elementwise work (bias,
ReLU, dropout, sigmoid, update) is fused into the loops that produce the data.
At this size an iteration is bound by loads and stores, not arithmetic, so the
loops are arranged to pass over each row as few times as they can (``_combining``).

It is *not* bit-identical to ``FullBatchGD``: the sums are taken in another
order (see ``_dot``) and ``exp``/``log1p`` come from LLVM's libm, not numpy's
SIMD ones. It agrees to ~1e-13 relative (tests/nn/kernels/test_compiled.py), so
``fit`` uses it only when asked (``engine="compiled"``), which ``src.train``
does for rng=modern; rng=course keeps the numpy kernel and the course's bits.
Its own results are deterministic on a machine: no threads, no BLAS, and the
order of the reassociated sums is fixed in the compiled code (which numba's
cache keys on the CPU model).
"""
from __future__ import annotations

import math

import numpy as np
import numba


def _jit(**options):
    """``numba.njit`` with the compiled code cached on disk (next to this file,
    else in the user's cache dir), so a process loads it in ~0.3 s, mostly
    numba's own set-up, instead of compiling for ~4 s. If no cache dir is
    writable numba refuses to decorate; then each process compiles for itself:
    slower to start, same results."""

    def decorate(fn):
        try:
            return numba.njit(cache=True, **options)(fn)
        except RuntimeError:  # "cannot cache function ...: no locator available"
            return numba.njit(**options)(fn)

    return decorate


# Without reassociation a sum is a chain of dependent adds (one per ~4 cycles);
# allowing it lets LLVM keep several partial sums in SIMD registers: 4-6x faster
# on 211 terms. Only "reassoc": NaN and inf must survive (divergence is detected
# from the cost), so no "nnan"/"ninf"/"fast".
@_jit(fastmath={"reassoc"})
def _dot(a, b):
    total = 0.0
    for j in range(a.shape[0]):
        total += a[j] * b[j]
    return total


@_jit(fastmath={"reassoc"})
def _sum(a):
    total = 0.0
    for j in range(a.shape[0]):
        total += a[j]
    return total


# What a combine (``_combining``) does to a sum before storing it, fused into its last pass:
# the output's bias; a hidden layer's bias, ReLU [and dropout]; going back, the
# derivative of that ReLU [and dropout]. ``gate`` is the layer's activation: it
# is > 0 exactly where its pre-activation was (and its dropout mask kept it).
@_jit(inline="always")
def _add_bias(total, bias, gate, masks, r, j, scale):
    return total + bias


@_jit(inline="always")
def _relu(total, bias, gate, masks, r, j, scale):
    return max(total + bias, 0.0)


@_jit(inline="always")
def _relu_dropout(total, bias, gate, masks, r, j, scale):
    return max(total + bias, 0.0) * (scale if masks[r, j] else 0.0)


@_jit(inline="always")
def _relu_grad(total, bias, gate, masks, r, j, scale):
    return total * (1.0 if gate[r, j] > 0.0 else 0.0)


@_jit(inline="always")
def _relu_dropout_grad(total, bias, gate, masks, r, j, scale):
    return total * (scale if masks[r, j] else 0.0) * (1.0 if gate[r, j] > 0.0 else 0.0)


def _combining(finish):
    """A compiled ``combine(out, r, W, rows, transposed, bias, gate, masks, scale)``:
    out[r] = finish(W[r, 0] rows[0] + W[r, 1] rows[1] + ...), with W[c, r] for
    W[r, c] if transposed.

    The sum is taken left to right from 0.0, as a loop of ``out[r] += W[r, c]
    rows[c]`` would (the same adds in the same order, so the same bits), but
    four rows a pass (the last count % 4 one a pass), so out[r] is loaded and
    stored about a quarter as often; and
    ``finish`` is applied in the last pass, not a pass of its own. One compiled
    function per finish, so that it is inlined into the loops (a finish chosen
    at run time inside them keeps them from vectorising)."""

    @_jit()
    def combine(out, r, W, rows, transposed, bias, gate, masks, scale):
        count, m = rows.shape
        c = 0
        while c < count:
            first = c == 0
            if count - c >= 4:
                last = c + 4 == count
                if transposed:
                    w0, w1, w2, w3 = W[c, r], W[c + 1, r], W[c + 2, r], W[c + 3, r]
                else:
                    w0, w1, w2, w3 = W[r, c], W[r, c + 1], W[r, c + 2], W[r, c + 3]
                for j in range(m):
                    total = 0.0 if first else out[r, j]
                    total = (((total + w0 * rows[c, j]) + w1 * rows[c + 1, j]) + w2 * rows[c + 2, j]) + w3 * rows[c + 3, j]
                    out[r, j] = finish(total, bias, gate, masks, r, j, scale) if last else total
                c += 4
            else:
                last = c + 1 == count
                w0 = W[c, r] if transposed else W[r, c]
                for j in range(m):
                    total = 0.0 if first else out[r, j]
                    total = total + w0 * rows[c, j]
                    out[r, j] = finish(total, bias, gate, masks, r, j, scale) if last else total
                c += 1

    return combine


_output = _combining(_add_bias)
_hidden = _combining(_relu)
_hidden_dropout = _combining(_relu_dropout)
_hidden_grad = _combining(_relu_grad)
_hidden_dropout_grad = _combining(_relu_dropout_grad)


@_jit()
def _iterate(flat, dims, A, Z, dZ_buf, dA_buf, Y, masks, lambd, keep_prob, learning_rates, want_cost):
    """``len(learning_rates)`` iterations of gradient descent on ``flat``
    (W1, b1, W2, b2, ... raveled, updated in place). Returns the cost of the
    first iteration's forward pass if ``want_cost``, else NaN.

    Buffers (all flat, rows of m examples): ``A`` holds X then the hidden
    layers' activations, ``Z`` the output's logits, ``masks`` the hidden
    layers' boolean dropout masks (empty: no dropout), ``dZ_buf``/``dA_buf``
    one layer's dZ and the layer below's, swapped on the way down.
    """
    L = dims.shape[0] - 1
    m = Y.shape[1]
    dropout = masks.shape[0] > 0
    # Offsets of each layer's W and b in flat, and of its input in A.
    w_at = np.empty(L + 1, np.int64)
    b_at = np.empty(L + 1, np.int64)
    a_at = np.empty(L + 1, np.int64)
    p_end = a_end = 0
    for l in range(1, L + 1):
        w_at[l], b_at[l] = p_end, p_end + dims[l] * dims[l - 1]
        p_end = b_at[l] + dims[l]
        a_at[l - 1] = a_end
        a_end += dims[l - 1] * m
    mask_at = a_at - dims[0] * m  # masks cover A's hidden part only
    # x * (1/p) instead of numpy's x / p: within an ulp, and a division per
    # element was a third of a dropout iteration's time.
    scale = 1.0 / keep_prob
    value = np.nan
    ZL = Z[:m].reshape((1, m))
    no_masks = masks[:0].reshape((0, 0))

    for it in range(learning_rates.shape[0]):
        lr = learning_rates[it]
        # Forward: A = relu(W A_prev + b) [* mask / keep_prob]; the output Z = W A_prev + b.
        for l in range(1, L + 1):
            n, p = dims[l], dims[l - 1]
            W = flat[w_at[l] : w_at[l] + n * p].reshape((n, p))
            b = flat[b_at[l] : b_at[l] + n]
            A_prev = A[a_at[l - 1] : a_at[l - 1] + p * m].reshape((p, m))
            if l == L:
                out, M = ZL, no_masks
            else:
                out = A[a_at[l] : a_at[l] + n * m].reshape((n, m))
                M = masks[mask_at[l] : mask_at[l] + n * m].reshape((n, m)) if dropout else no_masks
            for i in range(n):
                if l == L:
                    _output(out, i, W, A_prev, False, b[i], out, M, scale)
                elif dropout:
                    _hidden_dropout(out, i, W, A_prev, False, b[i], out, M, scale)
                else:
                    _hidden(out, i, W, A_prev, False, b[i], out, M, scale)
        if want_cost and it == 0:
            # cross-entropy from the logits, as loss.cross_entropy:
            # logaddexp(0, z) - y z, with logaddexp(0, z) = max(z, 0) + log1p(exp(-|z|))
            total = 0.0
            for j in range(m):
                z = ZL[0, j]
                total += (max(z, 0.0) + math.log1p(math.exp(-abs(z)))) - Y[0, j] * z
            value = total / m
            if lambd != 0.0:
                squares = 0.0
                for l in range(1, L + 1):
                    squares += _dot(flat[w_at[l] : b_at[l]], flat[w_at[l] : b_at[l]])
                value += lambd / (2 * m) * squares
        # Backward. Output: dZ = (sigmoid(Z) - Y) / m; exp(-z) overflows to inf
        # for z < -709, which gives the right 0 (and numba does not warn).
        dZ = dZ_buf[:m].reshape((1, m))
        for j in range(m):
            dZ[0, j] = (1.0 / (1.0 + math.exp(-ZL[0, j])) - Y[0, j]) / m
        for l in range(L, 0, -1):
            n, p = dims[l], dims[l - 1]
            W = flat[w_at[l] : w_at[l] + n * p].reshape((n, p))
            b = flat[b_at[l] : b_at[l] + n]
            A_prev = A[a_at[l - 1] : a_at[l - 1] + p * m].reshape((p, m))
            if l > 1:  # dZ_prev = W^T dZ * relu'(Z_prev) [* mask / keep_prob], from W before its update below
                dA = dA_buf[: p * m].reshape((p, m))
                M = masks[mask_at[l - 1] : mask_at[l - 1] + p * m].reshape((p, m)) if dropout else no_masks
                for k in range(p):
                    if dropout:
                        _hidden_dropout_grad(dA, k, W, dZ, True, 0.0, A_prev, M, scale)
                    else:
                        _hidden_grad(dA, k, W, dZ, True, 0.0, A_prev, M, scale)
            # W -= lr (dZ A_prev^T + lambd/m W), b -= lr sum(dZ): the gradient is
            # used as soon as it is made, so it needs no buffer of its own.
            for i in range(n):
                for k in range(p):
                    W[i, k] -= lr * (_dot(dZ[i], A_prev[k]) + lambd / m * W[i, k])
                b[i] -= lr * _sum(dZ[i])
            if l > 1:
                dZ = dA
                dZ_buf, dA_buf = dA_buf, dZ_buf
    return value


class CompiledGD:
    """``FullBatchGD``'s interface over ``_iterate``: ``step`` does one iteration
    (masks drawn by the caller), ``run`` several with no dropout."""

    def __init__(self, params: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray, lambd: float, keep_prob: float):
        L = sum(1 for name in params if name[0] == "W")
        self.names = [name for l in range(1, L + 1) for name in (f"W{l}", f"b{l}")]
        self.shapes = [params[name].shape for name in self.names]
        self.flat = np.concatenate([params[name].ravel() for name in self.names]).astype(np.float64)
        self.dims = np.array([X.shape[0]] + [params[f"W{l}"].shape[0] for l in range(1, L + 1)], dtype=np.int64)
        m = X.shape[1]
        self.A = np.empty(int(self.dims[:-1].sum()) * m)
        self.A[: X.size] = X.ravel()
        self.Z = np.empty(m)
        self.dZ = np.empty(int(self.dims.max()) * m)
        self.dA = np.empty_like(self.dZ)
        self.Y = np.ascontiguousarray(Y, dtype=np.float64)
        # Python floats: an int lambd would be another signature, i.e. another compile.
        self.lambd, self.keep_prob = float(lambd), float(keep_prob)
        hidden = self.A.size - X.size
        self.masks = np.empty(hidden if keep_prob < 1.0 else 0, dtype=np.bool_)
        self._mask_views, offset = [], 0
        for n in self.dims[1:-1] if self.masks.size else []:
            self._mask_views.append(self.masks[offset : offset + n * m].reshape(n, m))
            offset += n * m
        self._masks = None
        self._one = np.empty(1)

    def params(self) -> dict[str, np.ndarray]:
        out, offset = {}, 0
        for name, shape in zip(self.names, self.shapes):
            size = int(np.prod(shape))
            out[name] = self.flat[offset : offset + size].reshape(shape).copy()
            offset += size
        return out

    def step(self, learning_rate: float, masks=None, want_cost: bool = False) -> float | None:
        """One iteration. Returns the cost of its forward pass when asked."""
        if (masks is None) != (self.masks.size == 0):
            raise ValueError("masks are needed exactly when keep_prob < 1")
        if masks is not None and masks is not self._masks:
            # Copied into the kernel's buffer (bool to bool: a memcpy); course-style
            # randomness hands the very same list every time, which is copied once.
            for view, mask in zip(self._mask_views, masks):
                np.copyto(view, mask)
            self._masks = masks
        self._one[0] = learning_rate
        return self._call(self._one, want_cost)

    def run(self, learning_rates: np.ndarray, want_cost: bool = False) -> float | None:
        """``len(learning_rates)`` iterations in one call (no dropout: nothing to
        draw in between). Returns the cost of the first one's forward pass when asked."""
        if self.masks.size:
            raise ValueError("run() has no masks to apply; use step() with dropout")
        return self._call(np.ascontiguousarray(learning_rates, dtype=np.float64), want_cost)

    def _call(self, learning_rates: np.ndarray, want_cost: bool) -> float | None:
        value = _iterate(self.flat, self.dims, self.A, self.Z, self.dZ, self.dA, self.Y, self.masks,
                         self.lambd, self.keep_prob, learning_rates, bool(want_cost))
        return float(value) if want_cost else None
