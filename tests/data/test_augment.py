import numpy as np
import pytest

from src.config import run_config
from src.data.augment import augment, augment_split
from src.data.datasets import Split, circles, football
from src.errors import InputError
from src.recipe import train, training_split


def test_flip_adds_mirrored_copies_with_the_same_labels():
    split = Split(np.array([[1.0, 2.0], [3.0, -4.0]]), np.array([[0, 1]]))
    out = augment_split(split, np.random.default_rng(0), flip="x", copies=2)
    assert out.X.shape == (2, 6)
    np.testing.assert_array_equal(out.X[:, :2], split.X)
    np.testing.assert_array_equal(out.X[:, 2:4], [[-1.0, -2.0], [3.0, -4.0]])
    np.testing.assert_array_equal(out.Y, [[0, 1, 0, 1, 0, 1]])
    both = augment_split(split, np.random.default_rng(0), flip="xy")
    np.testing.assert_array_equal(both.X[:, 2:], -split.X)


def test_jitter_is_seeded_noise_on_the_copies_only():
    split = circles().train
    a = augment_split(split, np.random.default_rng(1), jitter=0.05)
    b = augment_split(split, np.random.default_rng(1), jitter=0.05)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.X[:, :300], split.X)
    noise = a.X[:, 300:] - split.X
    assert 0.04 < noise.std() < 0.06


def test_off_by_default_and_dev_test_untouched():
    data = football()
    assert augment_split(data.train, np.random.default_rng(0)) is data.train
    out = augment(data, np.random.default_rng(0), flip="y", jitter=0.1, copies=3)
    assert out.train.X.shape[1] == 4 * data.train.X.shape[1]
    for name in ("dev", "test"):
        assert out.splits[name] is data.splits[name]


def test_flip_needs_the_axis():
    split = Split(np.zeros((1, 3)), np.zeros((1, 3), dtype=int))
    with pytest.raises(InputError, match="augment.flip"):
        augment_split(split, np.random.default_rng(0), flip="y")


def test_train_augments_the_fitted_split_only():
    cfg = run_config(["dataset=football", "num_iterations=50", "augment.flip=x", "augment.jitter=0.05", "augment.copies=2"])
    plain = run_config(["dataset=football", "num_iterations=50"])
    result = train(cfg)
    reference = train(plain)
    fitted = training_split(cfg, result.dataset)
    assert fitted.X.shape[1] == 3 * result.dataset.train.X.shape[1]
    assert result.metrics["train_examples_augmented"] == fitted.X.shape[1]
    for name in ("train", "dev", "test"):  # the evaluated splits are the loaded ones
        np.testing.assert_array_equal(result.dataset.splits[name].X, reference.dataset.splits[name].X)
        np.testing.assert_array_equal(result.dataset.splits[name].Y, reference.dataset.splits[name].Y)
    # the initial weights do not depend on augmentation (its own random stream)
    assert all(np.array_equal(result.initial_params[k], reference.initial_params[k]) for k in reference.initial_params)
