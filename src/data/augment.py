"""Data augmentation for 2D sets: more training examples from the ones we have.

The course's idea (flipped and distorted images are still cats) on points: a
copy of the training split mirrored along an axis (that feature negated, i.e.
mirrored about 0, the centre after ``normalize=true``) and/or jittered with
Gaussian noise, labels unchanged. Only the training split grows; dev and test
are what the model is judged on and stay exactly as loaded.

Mirroring only helps when the classes are symmetric that way (circles are in
both axes; football's wavy line is not), which is why it is an option.
"""
from __future__ import annotations

import numpy as np

from .datasets import Dataset, Split
from ..errors import InputError

FLIPS = {None: (), "x": (0,), "y": (1,), "xy": (0, 1)}


def augment_split(split: Split, rng: np.random.Generator, flip: str | None = None, jitter: float = 0.0, copies: int = 1) -> Split:
    """The split followed by ``copies`` augmented copies of it (m -> m * (1 + copies))."""
    axes = FLIPS[flip]
    if not axes and jitter == 0.0:
        return split
    if axes and max(axes) >= split.X.shape[0]:
        raise InputError(f"augment.flip: {flip!r} needs {max(axes) + 1} features, the data has {split.X.shape[0]}")
    sign = np.ones((split.X.shape[0], 1))
    sign[list(axes)] = -1.0
    new_X, new_Y = [split.X], [split.Y]
    for _ in range(copies):
        X = split.X * sign
        if jitter > 0.0:
            X = X + rng.normal(scale=jitter, size=X.shape)
        new_X.append(X)
        new_Y.append(split.Y)
    return Split(np.concatenate(new_X, axis=1), np.concatenate(new_Y, axis=1))


def augment(dataset: Dataset, rng: np.random.Generator, flip: str | None = None, jitter: float = 0.0, copies: int = 1) -> Dataset:
    """The dataset with its training split augmented; every other split is the same object."""
    splits = dict(dataset.splits)
    splits["train"] = augment_split(dataset.train, rng, flip, jitter, copies)
    return Dataset(dataset.name, splits, dataset.bayes_error)
