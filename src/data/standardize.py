"""Input standardisation with the training split's statistics.

x' = (x - mu) / sigma, with mu and sigma per feature (row), computed on the
training split once and reused for dev and test: the model must see every
split through the same transform, and the dev/test sets must not leak into it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..nn.standardize import standardize as standardize_input
from .datasets import Dataset, Split


@dataclass(frozen=True)
class Stats:
    mean: np.ndarray  # (n_x, 1)
    std: np.ndarray  # (n_x, 1), never 0

    def to_dict(self) -> dict:
        return {"mean": self.mean.ravel().tolist(), "std": self.std.ravel().tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "Stats":
        return cls(np.asarray(d["mean"], float).reshape(-1, 1), np.asarray(d["std"], float).reshape(-1, 1))


def fit(X_train: np.ndarray) -> Stats:
    mean = X_train.mean(axis=1, keepdims=True)
    std = X_train.std(axis=1, keepdims=True)
    # A constant feature carries no information; dividing by 1 leaves it at 0.
    return Stats(mean, np.where(std > 0, std, 1.0))


def apply(X: np.ndarray, stats: Stats) -> np.ndarray:
    return standardize_input(X, stats.mean, stats.std)


def standardize(dataset: Dataset) -> tuple[Dataset, Stats]:
    """Every split through the training split's transform, and that transform."""
    stats = fit(dataset.train.X)
    splits = {name: Split(apply(s.X, stats), s.Y) for name, s in dataset.splits.items()}
    return Dataset(dataset.name, splits, dataset.bayes_error), stats
