"""scikit-learn's circles, moons and digits, without importing scikit-learn."""
from __future__ import annotations

import numpy as np
import pytest
import sklearn.datasets

from src.data import datasets


@pytest.mark.parametrize("n", [1, 2, 7, 100, 300, 701])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("noise", [0.05, 0.2])
def test_circles_and_moons_are_scikit_learns_bit_for_bit(n, seed, noise):
    for ours, theirs in ((datasets.two_circles, sklearn.datasets.make_circles), (datasets.two_moons, sklearn.datasets.make_moons)):
        X, y = ours(n, noise, np.random.RandomState(seed))
        X_ref, y_ref = theirs(n, noise=noise, random_state=np.random.RandomState(seed))
        assert X.tobytes() == X_ref.tobytes() and y.tobytes() == y_ref.tobytes() and y.dtype == y_ref.dtype


def test_the_generators_leave_the_generator_where_scikit_learn_does():
    """A caller drawing from the same RandomState afterwards (the course's week-2 set) sees the same numbers."""
    ours, theirs = np.random.RandomState(3), np.random.RandomState(3)
    datasets.two_moons(300, 0.2, ours)
    sklearn.datasets.make_moons(300, noise=0.2, random_state=theirs)
    assert ours.random_sample() == theirs.random_sample()


def test_digits_are_scikit_learns_bit_for_bit():
    X, y = datasets._load_digits()
    X_ref, y_ref = sklearn.datasets.load_digits(return_X_y=True)
    assert X.tobytes() == X_ref.tobytes() and y.tobytes() == y_ref.tobytes()
    assert (X.dtype, X.shape, y.dtype) == (X_ref.dtype, X_ref.shape, y_ref.dtype)


def test_digits_come_from_scikit_learns_loader_where_its_file_is_not_found(monkeypatch):
    monkeypatch.setattr(datasets.importlib.util, "find_spec", lambda name: None)
    calls = []
    load_digits = sklearn.datasets.load_digits
    monkeypatch.setattr(sklearn.datasets, "load_digits", lambda **kw: calls.append(kw) or load_digits(**kw))
    X, y = datasets._load_digits()
    assert calls == [{"return_X_y": True}] and X.shape == (1797, 64) and y.shape == (1797,)


def test_the_course_circles_are_unchanged():
    data = datasets.circles()
    X, y = sklearn.datasets.make_circles(300, noise=0.05, random_state=np.random.RandomState(1))
    assert np.array_equal(data.train.X, X.T) and np.array_equal(data.train.Y, y.reshape(1, -1))
