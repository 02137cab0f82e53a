"""Gradient checking: analytic gradients against two-sided finite differences.

    g_approx[i] = (J(theta + eps e_i) - J(theta - eps e_i)) / (2 eps)
    difference  = ||g - g_approx|| / (||g|| + ||g_approx||)

The course reads the difference in bands: about 1e-7 is fine, 1e-3 or more almost
surely a bug; a correct gradient can reach ~1e-7 when a step crosses a ReLU kink,
hence its pass mark 2e-7. The same measure per parameter array points at the
array that is wrong.

The relative measure has a blind spot: finite differences cannot resolve a
gradient entry finer than the cost's own rounding allows. J is a sum of terms of
size up to ``cost_scale`` (|J|, or the logits of a network, see network_check),
each rounded to spacing(cost_scale); their difference over 2 eps carries that
noise, the *resolution*. Where every entry of g and g_approx is within a few
resolutions of zero (a stationary point, a net trained to a cost near 0), the
ratio measures rounding, not the gradient. Hence one verdict rule (``verdict``):

    pass      difference < threshold                       (``passed``)
    rounding  not below the threshold, but no entry differs by more than
              ROUNDING resolutions: finite differences cannot tell g from
              g_approx here; inconclusive (no evidence of a bug, none of its absence)
    fail      some entry differs by more than that: a gradient is wrong

Pure numpy: no I/O, no configuration; the CLI (src/gradcheck.py), the pipeline
and the tracking all read ``GradcheckResult.verdict``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

THRESHOLD = 2e-7  # the course assignment's pass mark
ROUNDING = 10  # entries within this many resolutions of each other are rounding, not a bug
# verdict -> how reports count it
VERDICTS = {"pass": "passed", "rounding": "inconclusive (rounding)", "fail": "failed"}

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


def verdict(difference: float, worst_gap: float, resolution: float, threshold: float = THRESHOLD) -> str:
    """The one rule: "pass" below the threshold; "rounding" when the largest entry gap
    |g - g_approx| is within ROUNDING resolutions; "fail" otherwise (NaN fails)."""
    if difference < threshold:
        return "pass"
    if worst_gap <= ROUNDING * resolution:
        return "rounding"
    return "fail"


def count(verdicts) -> str:
    """"N passed, K inconclusive (rounding), F failed" for a collection of verdicts."""
    verdicts = list(verdicts)
    return ", ".join(f"{verdicts.count(v)} {words}" for v, words in VERDICTS.items())


@dataclass
class GradcheckResult:
    """Outcome of one check. Per-array fields are keyed like ``params``.

    ``approx[name]`` has the array's shape, NaN where a coordinate was not
    checked; ``worst[name]`` lists the entries with the largest |g - g_approx|
    (largest first); ``resolution`` is spacing(cost_scale) / (2 epsilon).
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

    def worst_gap(self, name: str | None = None) -> float:
        """The largest |g - g_approx| of one array, or of all of them."""
        names = self.worst if name is None else [name]
        gaps = [abs(e["analytic"] - e["numeric"]) for n in names for e in self.worst[n][:1]]
        return float(np.max(gaps)) if gaps else 0.0  # NaN (a non-finite cost) propagates and fails

    @property
    def verdict(self) -> str:
        return verdict(self.difference, self.worst_gap(), self.resolution, self.threshold)

    @property
    def verdicts(self) -> dict[str, str]:
        return {name: verdict(d, self.worst_gap(name), self.resolution, self.threshold) for name, d in self.per_param.items()}

    @property
    def flagged(self) -> list[str]:
        """Arrays whose own verdict is "fail"."""
        return [name for name, v in self.verdicts.items() if v == "fail"]

    def why(self) -> str:
        """One sentence on the verdict: what was measured against what."""
        gap = self.worst_gap()
        if self.verdict == "pass":
            return f"difference {self.difference:.3e} < threshold {self.threshold:g}"
        relation = "within" if self.verdict == "rounding" else "beyond"
        reading = ("inconclusive: finite differences cannot resolve these gradients (check at initialisation, "
                   "where they are larger)" if self.verdict == "rounding"
                   else f"a gradient is wrong{': ' + ', '.join(self.flagged) if self.flagged else ''}")
        return (f"difference {self.difference:.3e} >= threshold {self.threshold:g}; largest entry gap {gap:.1e} is "
                f"{relation} {ROUNDING} x the resolution {self.resolution:.1e}: {reading}")

    def to_dict(self) -> dict:
        """Plain JSON-able summary (no arrays)."""
        return {
            "difference": self.difference,
            "passed": self.passed,
            "verdict": self.verdict,
            "why": self.why(),
            "threshold": self.threshold,
            "epsilon": self.epsilon,
            "resolution": self.resolution,
            "worst_gap": self.worst_gap(),
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
    cost_scale: float | None = None,
    worst: int = 3,
) -> GradcheckResult:
    """Compare ``grads`` with two-sided differences of ``cost_fn`` around ``params``.

    params, grads: name -> array, same keys and shapes (``grads["W1"]`` is
    d cost / d ``params["W1"]``). cost_fn(params) -> float.
    subset: check at most this many coordinates per array, drawn without
        replacement from ``np.random.default_rng(seed)``; None checks them all.
    shifted_costs: optional vectorised evaluator (see ``ShiftedCosts``); without
        it cost_fn is called twice per coordinate.
    cost_scale: the size of the largest term the cost sums, which sets its
        rounding (default |J| at ``params``).

    Everything is done on a float64 copy of ``params``, so the caller's arrays
    are never touched, not even when cost_fn raises.
    """
    if set(params) != set(grads):
        raise ValueError(f"params and grads have different keys: {sorted(params)} vs {sorted(grads)}")
    if not epsilon > 0:
        raise ValueError(f"epsilon must be > 0, got {epsilon}")
    work = {name: np.array(value, dtype=np.float64, order="C") for name, value in params.items()}
    scale = abs(float(cost_fn(work))) if cost_scale is None else abs(float(cost_scale))
    resolution = float(np.spacing(scale)) / (2 * epsilon)
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
