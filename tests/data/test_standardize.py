"""Standardisation uses the training split's statistics, for every split."""
from __future__ import annotations

import numpy as np

from src.data import standardize as normalize
from src.data.datasets import Dataset, Split
from src.data.standardize import standardize


def shifted_dataset() -> Dataset:
    """Train, dev and test drawn from visibly different distributions."""
    rng = np.random.default_rng(0)

    def split(loc, scale, m):
        return Split(rng.normal(loc, scale, size=(2, m)), (rng.random((1, m)) < 0.5).astype(np.int64))

    return Dataset("shifted", {"train": split(1.0, 2.0, 50), "dev": split(-3.0, 0.5, 40), "test": split(5.0, 4.0, 30)})


def test_every_split_is_standardised_with_the_train_statistics():
    raw = shifted_dataset()
    out, stats = standardize(raw)
    mean = raw.train.X.mean(axis=1, keepdims=True)
    std = raw.train.X.std(axis=1, keepdims=True)
    np.testing.assert_allclose(stats.mean, mean)
    np.testing.assert_allclose(stats.std, std)
    for name in ("train", "dev", "test"):
        np.testing.assert_allclose(out.splits[name].X, (raw.splits[name].X - mean) / std)
        np.testing.assert_array_equal(out.splits[name].Y, raw.splits[name].Y)
    # the train split comes out standardised ...
    np.testing.assert_allclose(out.train.X.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(out.train.X.std(axis=1), 1)
    # ... and dev/test do not, which they would if they had been fitted on themselves
    for name in ("dev", "test"):
        own = normalize.apply(raw.splits[name].X, normalize.fit(raw.splits[name].X))
        assert not np.allclose(out.splits[name].X, own)
        assert np.all(np.abs(out.splits[name].X.mean(axis=1)) > 1)


def test_dev_and_test_never_influence_the_statistics():
    raw = shifted_dataset()
    changed = Dataset(raw.name, {**raw.splits, "dev": Split(raw.dev.X * 100 + 7, raw.dev.Y), "test": Split(raw.test.X - 50, raw.test.Y)})
    _, a = standardize(raw)
    _, b = standardize(changed)
    np.testing.assert_array_equal(a.mean, b.mean)
    np.testing.assert_array_equal(a.std, b.std)


def test_a_constant_feature_is_safe():
    X = np.vstack([np.arange(6.0), np.full(6, 3.0)])
    stats = normalize.fit(X)
    assert stats.std[1, 0] == 1.0
    out = normalize.apply(X, stats)
    assert np.all(np.isfinite(out))
    np.testing.assert_array_equal(out[1], 0.0)
