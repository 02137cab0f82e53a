"""The training loop: epochs x mini-batches, any update rule, optional early stopping.

The readable reference for every case. With the defaults (``optimizer="gd"``,
full batch, no decay, no early stopping) it is the course's full-batch gradient
descent, bit for bit: one epoch is one iteration, and the cost recorded at
iteration i is the one of the forward pass that gradient step is taken from.
Faster kernels for that case live in ``kernels/`` and equal this loop (tests).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .batchnorm import MOMENTUM
from .errors import DivergedError
from .model import backward, cost, forward, layer_dims, trainable, update_running_stats
from .optimizers import OPTIMIZERS, Optimizer

Params = dict[str, np.ndarray]
# draw_masks(shapes, keep_prob) -> one boolean mask per hidden layer
MaskSource = Callable[[list[tuple[int, int]], float], list[np.ndarray]]
# shuffle(epoch, m) -> a permutation of range(m), the order of that epoch's examples
Shuffle = Callable[[int, int], np.ndarray]


@dataclass(frozen=True)
class EarlyStopping:
    """Stop when ``score`` (lower is better, e.g. the dev cost) has not improved by
    more than ``min_delta`` for ``patience`` epochs; checked every ``every`` epochs
    (before that epoch's updates) and once after the last one."""

    score: Callable[[Params], float]
    patience: int
    min_delta: float = 0.0
    every: int = 100


@dataclass
class FitResult:
    params: dict[str, np.ndarray]
    cost_steps: list[int] = field(default_factory=list)
    costs: list[float] = field(default_factory=list)
    # Early stopping: epochs trained by the returned params, the score history.
    best_iteration: int | None = None
    stopped_early: bool = False
    score_steps: list[int] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)


def recorded(epoch: int, cost_every: int, num_iterations: int) -> bool:
    """Whether epoch's cost is recorded: every ``cost_every``-th epoch and the last one."""
    return epoch % cost_every == 0 or epoch == num_iterations - 1


def recorded_epochs(cost_every: int, num_iterations: int) -> list[int]:
    """The epochs ``recorded`` picks, in order, without asking it of every epoch."""
    return sorted({*range(0, num_iterations, cost_every), num_iterations - 1} - {-1})


class CostLog:
    """Records costs into a FitResult (and ``on_cost``); a NaN or inf cost raises DivergedError."""

    def __init__(self, result: FitResult, on_cost: Callable[[int, float], None] | None = None):
        self.result, self.on_cost = result, on_cost

    def __call__(self, epoch: int, value: float) -> None:
        if not np.isfinite(value):
            raise DivergedError(epoch, value)
        self.result.cost_steps.append(epoch)
        self.result.costs.append(value)
        if self.on_cost is not None:
            self.on_cost(epoch, value)


def batches(m: int, batch_size: int | None, order: np.ndarray | None):
    """Column index sets of one epoch: complete batches, then the smaller rest
    (the course's random_mini_batches). Full batch -> one ``slice(None)``."""
    if order is None:
        yield slice(None)
        return
    for start in range(0, m, batch_size):
        yield order[start : start + batch_size]


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
    optimizer: str | Optimizer = "gd",
    optimizer_options: dict[str, float] | None = None,
    batch_size: int | None = None,
    shuffle: Shuffle | None = None,
    lr_schedule: Callable[[int], float] | None = None,
    early_stopping: EarlyStopping | None = None,
    bn_momentum: float = MOMENTUM,
) -> FitResult:
    """Train ``params`` (a copy; the input is left untouched) for ``num_iterations`` epochs.

    ``batch_size`` None (or >= m) trains on the full batch; smaller sizes visit the
    examples in the order ``shuffle(epoch, m)`` gives. ``lr_schedule(epoch)`` is the
    learning rate of an epoch (default: ``learning_rate`` throughout).

    The cost (with L2, and with dropout when it is on, as the course reports it)
    is recorded at every ``cost_every``-th epoch and at the last one; computing it
    every epoch would cost a log per example for nothing. With mini-batches it is
    the example-weighted mean of that epoch's batch costs (the course's cost_avg).

    A batch-norm model trains on each batch's statistics; after every step its
    running mean and variance (used for prediction) move towards them with
    weight ``1 - bn_momentum``.
    """
    params = {k: v.copy() for k, v in params.items()}
    use_dropout = keep_prob < 1.0
    if use_dropout and draw_masks is None:
        raise ValueError("keep_prob < 1 needs draw_masks")
    opt = OPTIMIZERS[optimizer] if isinstance(optimizer, str) else optimizer
    options = dict(optimizer_options or {})
    m = X.shape[1]
    mini = batch_size is not None and batch_size < m
    if mini and shuffle is None:
        raise ValueError("batch_size < m needs shuffle")
    hidden = layer_dims(params)[1:-1]
    flat = _Flat(trainable(params))  # batch norm's running statistics are not trained
    weights = {"all": flat.pack(params)}
    state = opt.init(weights)
    result = FitResult(params)
    record = CostLog(result, on_cost)
    stopper = _Stopper(early_stopping, params) if early_stopping and early_stopping.patience > 0 else None

    def masks_for(columns: int):
        return draw_masks([(n, columns) for n in hidden], keep_prob) if use_dropout else None

    for epoch in range(num_iterations):
        if stopper is not None and epoch % stopper.every == 0 and stopper.stop(epoch, params):
            # The curve ends where training did: the cost this epoch would have started from.
            record(epoch, cost(forward(X, params, masks_for(m), keep_prob, training=True)[0], Y, params, lambd))
            result.stopped_early = True
            break
        lr = learning_rate if lr_schedule is None else lr_schedule(epoch)
        recording = recorded(epoch, cost_every, num_iterations)
        order = shuffle(epoch, m) if mini else None
        epoch_cost = 0.0
        for columns in batches(m, batch_size, order):
            Xb, Yb = (X, Y) if order is None else (X[:, columns], Y[:, columns])
            mb = Yb.shape[1]
            # A batch's L2 term carries lambd * mb / m, so the batch costs (and
            # gradients) average to the full-batch objective whatever the batch size.
            lambd_b = lambd if mb == m else lambd * mb / m
            ZL, caches = forward(Xb, params, masks_for(mb), keep_prob, training=True)
            if recording:
                epoch_cost += cost(ZL, Yb, params, lambd_b) * (1.0 if mb == m else mb / m)
            grads = backward(ZL, Yb, caches, lambd_b)
            # Batch norm: running mean/variance follow this batch's statistics (a no-op without it).
            params = update_running_stats(params, caches, bn_momentum)
            weights, state = opt.update(weights, {"all": flat.pack(grads)}, state, lr, **options)
            params = {**params, **flat.unpack(weights["all"])}
        if recording:
            record(epoch, epoch_cost)
    else:
        if stopper is not None:
            stopper.stop(num_iterations, params)

    result.params = params
    if stopper is not None:
        result.params = stopper.best_params
        result.best_iteration = stopper.best_epoch
        result.score_steps, result.scores = stopper.steps, stopper.scores
    return result


class _Flat:
    """The trainable parameters (or their gradients) as one vector, and back. The update
    rules are elementwise (nn/optimizers.py), so one call over the whole vector gives the
    bits one call per array would, with a sixth of numpy's per-call cost for a 3-layer
    net (an Adam step is ~14 calls instead of ~84). ``unpack`` gives views, which are
    never written: every update makes a new vector."""

    def __init__(self, params: Params):
        self.names = list(params)
        self.shapes = [params[name].shape for name in self.names]
        ends = np.cumsum([params[name].size for name in self.names])
        self.bounds = list(zip([0, *ends[:-1]], ends))

    def pack(self, arrays: Params) -> np.ndarray:
        return np.concatenate([arrays[name].ravel() for name in self.names])

    def unpack(self, vector: np.ndarray) -> Params:
        return {name: vector[start:end].reshape(shape)
                for name, shape, (start, end) in zip(self.names, self.shapes, self.bounds)}


class _Stopper:
    def __init__(self, rule: EarlyStopping, params: Params):
        self.rule, self.every = rule, rule.every
        self.best = np.inf
        self.best_epoch = 0
        self.best_params = params
        self.steps: list[int] = []
        self.scores: list[float] = []

    def stop(self, epoch: int, params: Params) -> bool:
        """Score params trained for ``epoch`` epochs; True when patience has run out."""
        score = float(self.rule.score(params))
        self.steps.append(epoch)
        self.scores.append(score)
        if score < self.best - self.rule.min_delta:
            # params are never modified in place (updates return new dicts), so no copy
            self.best, self.best_epoch, self.best_params = score, epoch, params
            return False
        return epoch - self.best_epoch >= self.rule.patience
