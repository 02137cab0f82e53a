"""Where a run's randomness comes from: initial weights and dropout masks.

``modern`` (default): one explicit ``np.random.Generator`` seeded with the run's
seed feeds everything, in a fixed order.

``course``: reproduces the course notebooks bit for bit. The course seeds the
legacy global generator (``np.random.seed(seed)``) and draws ``randn`` per layer;
a private ``RandomState(seed)`` yields the identical stream without touching
numpy's global state, so nothing else in the process is affected.
"""
from __future__ import annotations

import numpy as np


class ModernRandomness:
    def __init__(self, seed: int, shuffle_seed: int | None = None):
        self.generator = np.random.default_rng(seed)
        # Mini-batch order from the run's generator, or from a generator of its own.
        self._shuffler = self.generator if shuffle_seed is None else np.random.default_rng(shuffle_seed)

    def normal(self, shape: tuple[int, int]) -> np.ndarray:
        return self.generator.standard_normal(shape)

    def dropout_masks(self, shapes, keep_prob: float) -> list[np.ndarray]:
        return [self.generator.random(shape) < keep_prob for shape in shapes]

    def shuffle(self, epoch: int, m: int) -> np.ndarray:
        """The order of an epoch's examples for mini-batches."""
        return self._shuffler.permutation(m)


class CourseRandomness:
    def __init__(self, seed: int, shuffle_seed: int | None = None):
        self._state = np.random.RandomState(seed)
        self._shuffle_seed = seed if shuffle_seed is None else shuffle_seed
        self._shuffler = np.random.RandomState(0)  # reseeded every epoch (see shuffle)
        self._masks: dict = {}

    def normal(self, shape: tuple[int, int]) -> np.ndarray:
        return self._state.randn(*shape)

    def dropout_masks(self, shapes, keep_prob: float) -> list[np.ndarray]:
        # Course quirk, kept on purpose: forward_propagation_with_dropout calls
        # np.random.seed(1) at its start, so every iteration draws the very same
        # masks (rand(*A.shape) < keep_prob per hidden layer). Being identical,
        # they are drawn once and reused.
        key = (tuple(map(tuple, shapes)), keep_prob)
        if key not in self._masks:
            state = np.random.RandomState(1)
            self._masks[key] = [state.rand(*shape) < keep_prob for shape in shapes]
        return self._masks[key]

    def shuffle(self, epoch: int, m: int) -> np.ndarray:
        # The course's model() keeps a seed of its own for the mini-batches (week 2:
        # seed = 10, separate from the init seed 3) and increments it before every
        # epoch, so epoch e runs random_mini_batches(..., seed=shuffle_seed + 1 + e):
        # np.random.seed(that); permutation(m). A RandomState of its own, reseeded so,
        # gives the same order without touching the global state (and reseeding it
        # costs ~4 us where making a RandomState costs ~90 us, every epoch).
        self._shuffler.seed(self._shuffle_seed + 1 + epoch)
        return self._shuffler.permutation(m)


RANDOMNESS = {"modern": ModernRandomness, "course": CourseRandomness}


def make_randomness(mode: str, seed: int, shuffle_seed: int | None = None):
    return RANDOMNESS[mode](seed, shuffle_seed)
