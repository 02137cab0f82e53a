"""Stage ``gradient_norms``: vanishing and exploding gradients at initialisation
(course 2, week 1, 1.10-1.11).

    python -m src.pipeline.gradient_norms [--depth N] [--width N] [--seed N] [--out FILE.png] [--json FILE.json]

(depth, width and seed default to conf/studies.yaml ``gradient_norms``)

In a deep ReLU net each layer scales the signal by about ``scale * sqrt(n_prev / 2)``;
over L layers that compounds to factor^L, forward and backward alike.
He (sqrt(2/n_prev)) keeps the factor at ~1, so every layer's gradient has the
same size; Xavier (sqrt(1/n_prev)) is made for tanh and halves the variance per
ReLU layer, so gradients shrink towards the input (vanishing); the course's
``random`` (randn x 10) multiplies it by ~50 per layer (exploding); ``zeros``
gives zero gradients everywhere but the output bias (no symmetry breaking).

``gradient_norms`` is pure (data and seed in, numbers out); ``plots.gradient_norms``
draws the result.
"""
from __future__ import annotations

import numpy as np

from ..cli import report_errors
from ..io import atomic_write_json
from ..nn.init import initialize
from ..nn.model import backward, forward
from ..randomness import ModernRandomness
from .common import settings

INITS = ("zeros", "random", "xavier", "he")


def gradient_norms(
    X: np.ndarray,
    Y: np.ndarray,
    depth: int = 12,
    width: int = 20,
    inits=INITS,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """init -> ||dW_l||_F for l = 1..depth+1 (``depth`` hidden ReLU layers of
    ``width`` units, then the sigmoid output), at initialisation, on (X, Y).

    Every scheme starts from the same standard normals (one seed), so the
    schemes differ only in their scale.
    """
    dims = [X.shape[0], *[width] * depth, 1]
    norms = {}
    for init in inits:
        params = initialize(dims, init, ModernRandomness(seed).normal)
        ZL, caches = forward(X, params)
        grads = backward(ZL, Y, caches)
        norms[init] = np.array([np.linalg.norm(grads[f"W{l}"]) for l in range(1, len(dims))])
    return norms


def summary(norms: dict[str, np.ndarray]) -> dict[str, float]:
    """init -> median ||dW_l|| over the layers. In a plain ReLU chain ||dW_l|| ~
    ||A_(l-1)|| ||dZ_l|| carries the forward and the backward factor together,
    factor^(L-1) for every layer, so the level itself shows vanishing (xavier,
    far below he) or exploding (random, astronomically above) gradients."""
    return {init: float(np.median(n)) for init, n in norms.items()}


def table(norms: dict[str, np.ndarray]) -> str:
    """Markdown: one row per layer, one column per init scheme."""
    inits = list(norms)
    lines = ["| layer | " + " | ".join(inits) + " |", "| --- |" + " --- |" * len(inits)]
    for l in range(len(next(iter(norms.values())))):
        lines.append(f"| {l + 1} | " + " | ".join(f"{norms[i][l]:.2e}" for i in inits) + " |")
    return "\n".join(lines)


def record(norms: dict[str, np.ndarray], depth: int, width: int, seed: int) -> dict:
    """JSON-ready: the settings, ||dW[l]|| per init (12 significant digits) and their medians."""
    def sig(x) -> float:
        return float(f"{x:.12g}")

    return {
        "data": "circles (training split)",
        "depth": depth,
        "width": width,
        "seed": seed,
        "norms": {init: [sig(v) for v in values] for init, values in norms.items()},
        "median": {init: sig(v) for init, v in summary(norms).items()},
    }


@report_errors
def main(argv: list[str] | None = None) -> None:
    """On the circles data: the table, the medians, and the figure and record if asked."""
    import argparse

    from .. import plots
    from ..data.datasets import circles

    parser = argparse.ArgumentParser(prog="python -m src.pipeline.gradient_norms", description="||dW[l]|| at initialisation of a deep ReLU net, per init scheme")
    study = settings("gradient_norms")
    parser.add_argument("--depth", type=int, default=study["depth"], help="hidden layers")
    parser.add_argument("--width", type=int, default=study["width"], help="units per hidden layer")
    parser.add_argument("--seed", type=int, default=study["seed"])
    parser.add_argument("--out", help="write the figure here (PNG)")
    parser.add_argument("--json", help="write the norms here (JSON; stage gradient_norms)")
    args = parser.parse_args(argv)
    data = circles()
    norms = gradient_norms(data.train.X, data.train.Y, args.depth, args.width, seed=args.seed)
    print(table(norms))
    print("median ||dW||: " + ", ".join(f"{k} {v:.2e}" for k, v in summary(norms).items()))
    if args.out:
        plots.gradient_norms(norms, args.out, f"{args.depth} hidden ReLU layers of {args.width}: ||dW[l]|| at init")
        print(f"wrote {args.out}")
    if args.json:
        atomic_write_json(args.json, record(norms, args.depth, args.width, args.seed))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
