"""Gradient checking: analytic gradients against two-sided finite differences.

    g_approx[i] = (J(theta + eps e_i) - J(theta - eps e_i)) / (2 eps)
    difference  = ||g - g_approx|| / (||g|| + ||g_approx||)

Reading the difference (the course's bands): about 1e-7 is fine, about 1e-5 means
look again, 1e-3 or more is almost surely a bug. A correct gradient can reach
~1e-7 when a perturbation crosses a ReLU kink, hence the assignment's threshold
2e-7. The same measure per parameter array points at the array that is wrong.

Three levels, each usable alone:
- ``check_gradients(cost_fn, params, grads)``: any cost, coordinate by coordinate,
  optionally on a seeded random subset per array, optionally vectorised.
- ``check_model(params, X, Y, lambd)``: the project's network (without dropout),
  sigmoid or softmax output, with or without batch norm (checked in training
  mode: the cost of a batch-norm net is that of its batch statistics).
- ``python -m src.gradcheck [train overrides]``: the configured model, at
  initialisation and optionally after ``gradcheck.train_iterations``.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import hydra
import numpy as np
from omegaconf import DictConfig
from threadpoolctl import threadpool_limits

from .cli import run
from .config import validate
from .errors import InputError
from .nn.batchnorm import MOMENTUM
from .nn.fit import DivergedError, fit
from .nn.model import backward, cost, forward, is_buffer, num_layers, trainable
from .randomness import make_randomness
from .train import initial_params, load_dataset

THRESHOLD = 2e-7  # the course assignment's pass mark
BUG_LEVEL = 1e-3  # the notes: at or above this, almost surely a bug

CostFn = Callable[[dict[str, np.ndarray]], float]
# shifted_costs(params, name, flat_indices, steps) -> costs, shape (K,): the cost
# with params[name].flat[flat_indices[k]] moved by steps[k], one entry at a time.
ShiftedCosts = Callable[[dict[str, np.ndarray], str, np.ndarray, np.ndarray], np.ndarray]


def relative_difference(g: np.ndarray, g_approx: np.ndarray) -> float:
    """||g - g_approx|| / (||g|| + ||g_approx||); 0 when both are zero (they match)."""
    denominator = np.linalg.norm(g) + np.linalg.norm(g_approx)
    if denominator == 0:
        return 0.0
    return float(np.linalg.norm(g - g_approx) / denominator)


def _difference(g: np.ndarray, g_approx: np.ndarray, resolution: float) -> float:
    # A gradient that is zero up to what finite differences can resolve cannot be
    # told from zero; without this a stationary point (zeros init on balanced
    # labels) scores 1.0 from rounding alone: 2.6e-18 vs 0 is "100% different".
    if np.all(np.abs(g) <= 2 * resolution) and np.all(np.abs(g_approx) <= 2 * resolution):
        return 0.0
    return relative_difference(g, g_approx)


def verdict(difference: float, threshold: float = THRESHOLD) -> str:
    """"ok" below the threshold, "bug" from 1e-3 (or NaN), "look again" between."""
    if difference < threshold:
        return "ok"
    if difference < BUG_LEVEL:
        return "look again"
    return "bug"


@dataclass
class GradcheckResult:
    """Outcome of one check. Per-array fields are keyed like ``params``.

    ``approx[name]`` has the array's shape, NaN where a coordinate was not
    checked; ``worst[name]`` lists the entries with the largest |g - g_approx|.
    ``resolution`` is the smallest step of a numeric gradient entry,
    spacing(J) / (2 epsilon): entries within 2 resolutions of zero count as zero,
    and a "look again" on an array whose entries differ by about a resolution is
    rounding, not a bug (likely with ``random`` init, whose cost is ~1e3).
    """

    difference: float
    per_param: dict[str, float]
    threshold: float
    epsilon: float
    shapes: dict[str, tuple[int, ...]]
    checked: dict[str, int]
    worst: dict[str, list[dict]]
    approx: dict[str, np.ndarray] = field(repr=False)
    resolution: float = 0.0
    sampled: bool = False
    seed: int | None = None

    @property
    def passed(self) -> bool:
        return bool(self.difference < self.threshold)

    @property
    def verdict(self) -> str:
        return verdict(self.difference, self.threshold)

    @property
    def verdicts(self) -> dict[str, str]:
        return {name: verdict(d, self.threshold) for name, d in self.per_param.items()}

    @property
    def flagged(self) -> list[str]:
        """Arrays whose own difference is not below the threshold."""
        return [name for name, v in self.verdicts.items() if v != "ok"]

    def to_dict(self) -> dict:
        """Plain JSON-able summary (no arrays)."""
        return {
            "difference": self.difference,
            "passed": self.passed,
            "verdict": self.verdict,
            "threshold": self.threshold,
            "epsilon": self.epsilon,
            "resolution": self.resolution,
            "sampled": self.sampled,
            "seed": self.seed,
            "flagged": self.flagged,
            "params": {
                name: {
                    "shape": list(self.shapes[name]),
                    "size": int(np.prod(self.shapes[name], dtype=np.int64)),
                    "checked": self.checked[name],
                    "difference": self.per_param[name],
                    "verdict": self.verdicts[name],
                    "worst": self.worst[name],
                }
                for name in self.per_param
            },
        }

    def rows(self) -> list[list[str]]:
        """Table rows: param, shape, checked, difference, verdict, worst entry."""
        rows = []
        for name, d in self.per_param.items():
            size = int(np.prod(self.shapes[name], dtype=np.int64))
            top = self.worst[name][0] if self.worst[name] else None
            worst = ""
            if top:
                gap = abs(top["analytic"] - top["numeric"])
                worst = f"{top['index']}: {top['analytic']:.6g} vs {top['numeric']:.6g} (gap {gap:.1e})"
            rows.append([name, str(self.shapes[name]), f"{self.checked[name]}/{size}", f"{d:.3e}", self.verdicts[name], worst])
        checked = sum(self.checked.values())
        total = sum(int(np.prod(s, dtype=np.int64)) for s in self.shapes.values())
        rows.append(["overall", "", f"{checked}/{total}", f"{self.difference:.3e}", self.verdict, ""])
        return rows

    def to_markdown(self) -> str:
        header = ["param", "shape", "checked", "difference", "verdict", "worst entry (analytic vs numeric)"]
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows()]
        return "\n".join(lines)

    def to_text(self) -> str:
        """Aligned table plus a PASSED/FAILED line, for the terminal."""
        header = ["param", "shape", "checked", "difference", "verdict", "worst entry (analytic vs numeric)"]
        table = [header, *self.rows()]
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table]
        outcome = "PASSED" if self.passed else "FAILED"
        relation = "<" if self.passed else ">="
        line = f"{outcome}: difference {self.difference:.3e} {relation} threshold {self.threshold:g}"
        if self.flagged:
            line += f"; flagged: {', '.join(self.flagged)}"
        line += f" (numeric resolution {self.resolution:.1e} per entry"
        line += f"; random subset of coordinates, seed {self.seed})" if self.sampled else ")"
        return "\n".join(lines + [line])


def check_gradients(
    cost_fn: CostFn,
    params: dict[str, np.ndarray],
    grads: dict[str, np.ndarray],
    epsilon: float = 1e-7,
    threshold: float = THRESHOLD,
    *,
    subset: int | None = None,
    seed: int = 0,
    shifted_costs: ShiftedCosts | None = None,
    worst: int = 3,
) -> GradcheckResult:
    """Compare ``grads`` with two-sided differences of ``cost_fn`` around ``params``.

    params, grads: name -> array, same keys and shapes (``grads["W1"]`` is
    d cost / d ``params["W1"]``). cost_fn(params) -> float.
    subset: check at most this many coordinates per array, drawn without
        replacement from ``np.random.default_rng(seed)``; None checks them all.
    shifted_costs: optional vectorised evaluator (see ``ShiftedCosts``); without
        it cost_fn is called twice per coordinate.

    Everything is done on a float64 copy of ``params``, so the caller's arrays
    are never touched, not even when cost_fn raises.
    """
    if set(params) != set(grads):
        raise ValueError(f"params and grads have different keys: {sorted(params)} vs {sorted(grads)}")
    if not epsilon > 0:
        raise ValueError(f"epsilon must be > 0, got {epsilon}")
    work = {name: np.array(value, dtype=np.float64, order="C") for name, value in params.items()}
    resolution = float(np.spacing(abs(float(cost_fn(work))))) / (2 * epsilon)
    rng = np.random.default_rng(seed)
    per_param, checked, worst_entries, approx = {}, {}, {}, {}
    all_g, all_approx = [], []
    for name, value in work.items():
        g = np.asarray(grads[name], dtype=np.float64)
        if g.shape != value.shape:
            raise ValueError(f"grads[{name!r}] has shape {g.shape}, params[{name!r}] has {value.shape}")
        flat = np.arange(value.size)
        if subset is not None and subset < value.size:
            flat = np.sort(rng.choice(value.size, size=subset, replace=False))
        if shifted_costs is None:
            g_approx = _loop_approx(cost_fn, work, name, flat, epsilon)
        else:
            g_approx = _shifted_approx(shifted_costs, work, name, flat, epsilon)
        g_checked = g.reshape(-1)[flat]
        per_param[name] = _difference(g_checked, g_approx, resolution)
        checked[name] = int(flat.size)
        worst_entries[name] = _worst(g_checked, g_approx, flat, value.shape, worst)
        full = np.full(value.size, np.nan)
        full[flat] = g_approx
        approx[name] = full.reshape(value.shape)
        all_g.append(g_checked)
        all_approx.append(g_approx)
    sampled = any(checked[name] < work[name].size for name in work)
    return GradcheckResult(
        difference=_difference(np.concatenate(all_g), np.concatenate(all_approx), resolution),
        per_param=per_param,
        threshold=threshold,
        epsilon=epsilon,
        shapes={name: value.shape for name, value in work.items()},
        checked=checked,
        worst=worst_entries,
        approx=approx,
        resolution=resolution,
        sampled=sampled,
        seed=seed if sampled else None,
    )


def _loop_approx(cost_fn: CostFn, work, name: str, flat: np.ndarray, epsilon: float) -> np.ndarray:
    entries = work[name].reshape(-1)  # a view: work arrays are C-contiguous copies
    plus, minus = np.empty(flat.size), np.empty(flat.size)
    for k, i in enumerate(flat):
        original = entries[i]
        try:
            entries[i] = original + epsilon
            plus[k] = cost_fn(work)
            entries[i] = original - epsilon
            minus[k] = cost_fn(work)
        finally:
            entries[i] = original
    # Divided as the course divides, so its published figures compare digit for digit.
    return (plus - minus) / 2 / epsilon


def _shifted_approx(shifted_costs: ShiftedCosts, work, name: str, flat: np.ndarray, epsilon: float) -> np.ndarray:
    entries = work[name].reshape(-1)[flat]
    # The steps actually taken once theta +- eps is rounded, as in the loop path.
    up = (entries + epsilon) - entries
    down = (entries - epsilon) - entries
    plus = np.asarray(shifted_costs(work, name, flat, up), dtype=np.float64)
    minus = np.asarray(shifted_costs(work, name, flat, down), dtype=np.float64)
    return (plus - minus) / 2 / epsilon


def _worst(g: np.ndarray, g_approx: np.ndarray, flat: np.ndarray, shape, count: int) -> list[dict]:
    gap = np.abs(g - g_approx)
    order = np.argsort(-np.nan_to_num(gap, nan=np.inf), kind="stable")[:count]
    return [
        {
            "index": [int(i) for i in np.unravel_index(flat[k], shape)],
            "analytic": float(g[k]),
            "numeric": float(g_approx[k]),
        }
        for k in order
    ]


# --- the project's network -------------------------------------------------


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


def model_shifted_costs(X: np.ndarray, Y: np.ndarray, lambd: float = 0.0, max_floats: int = 1 << 21) -> ShiftedCosts:
    """Vectorised ``ShiftedCosts`` for the network: many one-entry shifts per numpy call.

    Moving entry (r, c) of W_l (or r of b_l) changes only row r of Z_l, so the
    layers below are reused and Z_{l+1} moves by the rank-one term
    W_{l+1}[:, r] (relu(Z_l[r] + step * A_{l-1}[c]) - A_l[r]); the layers above
    are recomputed for a batch of shifts at once. max_floats bounds the batch.
    Sigmoid or softmax output; not batch norm (check_model loops for it).
    """
    m = Y.shape[1]

    def shifted(params, name, flat, steps):
        L = num_layers(params)
        layer = int(name[1:])
        A, Z = [X], []  # A[l] = A_l (A[0] = X), Z[l - 1] = Z_l
        for l in range(1, L + 1):
            Z.append(params[f"W{l}"] @ A[-1] + params[f"b{l}"])
            if l < L:
                A.append(np.maximum(Z[-1], 0))
        rows, cols = np.unravel_index(flat, params[name].shape)
        width = max(z.shape[0] for z in Z)
        batch = max(1, max_floats // (width * m))
        costs = np.empty(len(flat))
        for start in range(0, len(flat), batch):
            r, c, s = rows[start : start + batch], cols[start : start + batch], steps[start : start + batch]
            if name[0] == "W":
                z_rows = Z[layer - 1][r] + s[:, None] * A[layer - 1][c]
            else:
                z_rows = Z[layer - 1][r] + s[:, None]
            if layer == L:
                ZL = np.repeat(Z[L - 1][None], len(r), axis=0)
                ZL[np.arange(len(r)), r] = z_rows
            else:
                dA = np.maximum(z_rows, 0) - A[layer][r]
                ZL = Z[layer][None] + params[f"W{layer + 1}"][:, r].T[:, :, None] * dA[:, None, :]
                for l in range(layer + 2, L + 1):
                    ZL = params[f"W{l}"] @ np.maximum(ZL, 0) + params[f"b{l}"]
            costs[start : start + batch] = _batched_loss(ZL, Y)
        if lambd:
            squares = sum(np.sum(np.square(W)) for key, W in params.items() if key.startswith("W"))
            if name[0] == "W":
                w = params[name].reshape(-1)[flat]
                squares = squares + steps * (2 * w + steps)  # (w + s)^2 - w^2, without cancellation
            costs = costs + lambd / (2 * m) * squares
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
    gamma, beta); its running statistics have no gradient and stay fixed. The
    vectorised path covers models without batch norm; with it, the loop is used.
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
    return check_gradients(
        model_cost(X, Y, lambd, buffers=buffers),
        params,
        grads,
        epsilon,
        threshold,
        subset=subset,
        seed=seed,
        shifted_costs=model_shifted_costs(X, Y, lambd) if vectorised and not buffers else None,
    )


# --- the CLI ---------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    """The ``gradcheck:`` section of conf/gradcheck.yaml, validated."""

    epsilon: float = 1e-7
    threshold: float = THRESHOLD
    train_iterations: int = 0
    inject: str | None = None
    inject_factor: float = 2.0
    subset: int | None = None
    vectorised: bool = True


def options(cfg: DictConfig) -> Options:
    """Validated gradcheck options; a config without the section gets the defaults."""
    section = cfg.get("gradcheck") or {}
    defaults = Options()
    get = lambda key: section.get(key, getattr(defaults, key))  # noqa: E731

    def positive(key):
        value = get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value <= 0:
            raise InputError(f"gradcheck.{key}: expected a finite number > 0, got {value!r}")
        return float(value)

    def integer(key, low, allow_none=False):
        value = get(key)
        if allow_none and value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise InputError(f"gradcheck.{key}: expected an integer >= {low}{' or null' if allow_none else ''}, got {value!r}")
        return value

    factor = get("inject_factor")
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not np.isfinite(factor):
        raise InputError(f"gradcheck.inject_factor: expected a finite number, got {factor!r}")
    L = len(cfg.layers) + 1
    # Batch-norm hidden layers have gamma, beta and no b (src/nn/model.py).
    hidden = ("W", "gamma", "beta") if cfg.get("batch_norm", False) else ("W", "b")
    names = [f"{kind}{l}" for l in range(1, L + 1) for kind in (hidden if l < L else ("W", "b"))]
    inject = get("inject")
    if inject is not None:
        resolved = param_name(str(inject), names)
        if resolved is None:
            raise InputError(f"gradcheck.inject: unknown parameter {inject!r} (choose from {', '.join(names)}, or dW2-style names)")
        inject = resolved
    if not isinstance(get("vectorised"), bool):
        raise InputError(f"gradcheck.vectorised: must be true or false, got {get('vectorised')!r}")
    return Options(
        epsilon=positive("epsilon"),
        threshold=positive("threshold"),
        train_iterations=integer("train_iterations", 0),
        inject=inject,
        inject_factor=float(factor),
        subset=integer("subset", 1, allow_none=True),
        vectorised=get("vectorised"),
    )


def gradcheck(cfg: DictConfig, say: Callable[[str], None] = lambda _: None) -> dict[str, GradcheckResult]:
    """Check the configured model at initialisation ("init") and, if
    ``gradcheck.train_iterations`` > 0, after that much training ("trained").

    Dropout is off for the check (its masks make the cost random); training
    still uses it. ``say`` receives notes worth printing.
    """
    validate(cfg)
    opts = options(cfg)
    dataset = load_dataset(cfg)
    X, Y = dataset.train.X, dataset.train.Y
    randomness = make_randomness(cfg.rng, cfg.seed)
    params = initial_params(cfg, dataset, randomness)
    if cfg.keep_prob < 1:
        say(f"note: dropout (keep_prob={cfg.keep_prob}) is switched off for the check: its random masks make finite differences meaningless")
    if opts.inject is not None:
        say(f"note: planted bug: d{opts.inject} is multiplied by {opts.inject_factor:g}")
    check = lambda p: check_model(  # noqa: E731
        p, X, Y, cfg.lambd, epsilon=opts.epsilon, threshold=opts.threshold, subset=opts.subset,
        seed=cfg.seed, inject=opts.inject, inject_factor=opts.inject_factor, vectorised=opts.vectorised,
    )
    results = {"init": check(params)}
    if opts.train_iterations:
        try:
            fitted = fit(
                params, X, Y, learning_rate=cfg.learning_rate, num_iterations=opts.train_iterations,
                lambd=cfg.lambd, keep_prob=cfg.keep_prob, draw_masks=randomness.dropout_masks,
                cost_every=opts.train_iterations, bn_momentum=cfg.get("bn_momentum", MOMENTUM),
            )
        except DivergedError as error:
            raise InputError(f"learning_rate: {error}") from None
        results["trained"] = check(fitted.params)
    return results


@hydra.main(config_path=str(Path(__file__).resolve().parents[1] / "conf"), config_name="gradcheck", version_base="1.3")
def main(cfg: DictConfig) -> None:
    # One BLAS thread: the matrices are tiny, and on a busy machine OpenBLAS's
    # threads made the coordinate loop ~60x slower in bench/gradcheck_bench.py.
    with threadpool_limits(1):
        results = gradcheck(cfg, say=print)
    iterations = cfg.gradcheck.train_iterations if "gradcheck" in cfg else 0
    for stage, result in results.items():
        where = "at initialisation" if stage == "init" else f"after {iterations} training iterations"
        print(f"\ngradient check {where} (init={cfg.init}, layers={list(cfg.layers)}, lambd={cfg.lambd}, epsilon={result.epsilon:g})")
        print(result.to_text())
    if not all(result.passed for result in results.values()):
        sys.exit(1)


if __name__ == "__main__":
    run(main)
