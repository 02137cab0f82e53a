"""Full-batch gradient descent, the course's training loop."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .model import backward, cost, forward, layer_dims

# draw_masks(shapes, keep_prob) -> one boolean mask per hidden layer
MaskSource = Callable[[list[tuple[int, int]], float], list[np.ndarray]]


class DivergedError(ArithmeticError):
    """The cost became NaN or infinite."""

    def __init__(self, iteration: int, value: float):
        super().__init__(
            f"cost is {value} at iteration {iteration}: training diverged; "
            "try a lower learning_rate"
        )
        self.iteration = iteration


@dataclass
class FitResult:
    params: dict[str, np.ndarray]
    cost_steps: list[int] = field(default_factory=list)
    costs: list[float] = field(default_factory=list)


def fit(
    params: dict[str, np.ndarray],
    X: np.ndarray,
    Y: np.ndarray,
    *,
    learning_rate: float,
    num_iterations: int,
    lambd: float = 0.0,
    keep_prob: float = 1.0,
    draw_masks: MaskSource | None = None,
    cost_every: int = 100,
    on_cost: Callable[[int, float], None] | None = None,
) -> FitResult:
    """Train ``params`` (a copy; the input is left untouched).

    The cost (with L2, and with dropout when it is on, as the course reports it)
    is recorded at every ``cost_every``-th iteration and at the last one;
    computing it every iteration would cost a log per example for nothing.
    """
    params = {k: v.copy() for k, v in params.items()}
    use_dropout = keep_prob < 1.0
    if use_dropout and draw_masks is None:
        raise ValueError("keep_prob < 1 needs draw_masks")
    hidden_shapes = [(n, X.shape[1]) for n in layer_dims(params)[1:-1]]
    result = FitResult(params)
    for i in range(num_iterations):
        masks = draw_masks(hidden_shapes, keep_prob) if use_dropout else None
        ZL, caches = forward(X, params, masks, keep_prob)
        if i % cost_every == 0 or i == num_iterations - 1:
            value = cost(ZL, Y, params, lambd)
            if not np.isfinite(value):
                raise DivergedError(i, value)
            result.cost_steps.append(i)
            result.costs.append(value)
            if on_cost is not None:
                on_cost(i, value)
        grads = backward(ZL, Y, caches, lambd)
        for name, g in grads.items():
            params[name] -= learning_rate * g
    return result
