"""Faster kernels for the course's case, behind one ``engine`` choice.

The course's case is plain full-batch gradient descent on a sigmoid network
without batch norm or early stopping: the course's models and the pipeline's
matrix. ``fit`` (../fit.py) is the readable reference for every case; here the
same case runs on

- ``numpy``: ``FullBatchGD`` (numpy_buffers.py), numpy's arithmetic on
  preallocated buffers, bit-identical to ``fit`` (tests/nn/kernels/);
- ``compiled``: ``CompiledGD`` (compiled.py, numba), one compiled loop per
  iteration, equal to ``fit`` to ~1e-13 but not bit for bit.

``fit(..., engine=...)`` takes ``nn.fit.fit``'s arguments and runs the kernel
when the case is the course's, ``nn.fit.fit`` otherwise.
"""
from __future__ import annotations

import numpy as np

from .. import fit as reference
from ..model import has_batch_norm, num_layers
from .numpy_buffers import FullBatchGD

ENGINES = ("numpy", "compiled")


def course_case(params: dict[str, np.ndarray], m: int, *, optimizer="gd", optimizer_options=None,
                batch_size: int | None = None, early_stopping=None, **_) -> bool:
    """Plain gd on the full batch, one sigmoid output, no batch norm, no early stopping."""
    plain_gd = optimizer == "gd" and not optimizer_options
    full_batch = batch_size is None or batch_size >= m
    stopping = early_stopping is not None and early_stopping.patience > 0
    sigmoid = params[f"W{num_layers(params)}"].shape[0] == 1
    return plain_gd and full_batch and not stopping and sigmoid and not has_batch_norm(params)


def fit(params: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray, *, engine: str = "numpy", **options) -> reference.FitResult:
    """``nn.fit.fit(params, X, Y, **options)``, on the ``engine`` kernel in the course's case."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if not course_case(params, X.shape[1], **options):
        return reference.fit(params, X, Y, **options)
    return _run(params, X, Y, engine, **options)


def _run(params, X, Y, engine: str, *, learning_rate: float, num_iterations: int, lambd: float = 0.0,
         keep_prob: float = 1.0, draw_masks=None, cost_every: int = 100, on_cost=None, lr_schedule=None,
         **_) -> reference.FitResult:
    if keep_prob < 1.0 and draw_masks is None:
        raise ValueError("keep_prob < 1 needs draw_masks")
    if engine == "compiled":
        from .compiled import CompiledGD  # imports numba (~0.3 s) only when used

        kernel = CompiledGD(params, X, Y, lambd, keep_prob)
    else:
        kernel = FullBatchGD(params, X, Y, lambd, keep_prob)
    result = reference.FitResult(params)
    record = reference.CostLog(result, on_cost)
    hidden = [(params[f"W{l}"].shape[0], X.shape[1]) for l in range(1, num_layers(params))]

    if engine == "compiled" and keep_prob == 1.0:
        # Nothing to draw between iterations: one kernel call per stretch from one
        # recorded cost to the next (the stretch's first iteration records).
        starts = reference.recorded_epochs(cost_every, num_iterations)
        for epoch, end in zip(starts, starts[1:] + [num_iterations]):
            record(epoch, kernel.run(_rates(learning_rate, lr_schedule, epoch, end), want_cost=True))
    else:
        for epoch in range(num_iterations):
            masks = draw_masks(hidden, keep_prob) if keep_prob < 1.0 else None
            recording = reference.recorded(epoch, cost_every, num_iterations)
            rate = learning_rate if lr_schedule is None else lr_schedule(epoch)
            value = kernel.step(float(rate), masks, recording)
            if recording:
                record(epoch, value)
    result.params = kernel.params()
    return result


def _rates(learning_rate: float, lr_schedule, start: int, end: int) -> np.ndarray:
    """The rates of epochs start..end-1, one stretch at a time: a long run's every rate up
    front would be a big array whose filling holds off a signal (Ctrl-C, a dead launcher)."""
    if lr_schedule is None:
        return np.full(end - start, float(learning_rate))
    return np.array([lr_schedule(epoch) for epoch in range(start, end)], dtype=np.float64)
