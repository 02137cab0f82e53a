"""Datasets in course layout: X is (n_x, m), Y is (1, m) with labels 0/1, or
integer class ids 0..K-1 for the multi-class sets (``digits``, ``spiral``).

Every loader returns a ``Dataset`` with ``train`` and ``test`` splits and, when
the source has one, a ``dev`` split. Generators are seeded with their own
``RandomState`` so they never touch numpy's global state.
"""
from __future__ import annotations

import gzip
import hashlib
import importlib.util
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError

SPLITS = ("train", "dev", "test")


@dataclass
class Split:
    X: np.ndarray
    Y: np.ndarray


@dataclass
class Dataset:
    name: str
    splits: dict[str, Split]
    # The best error any model can reach on it, as far as its making tells (the
    # bias/variance diagnosis's floor): 0 unless labels are noisy by construction.
    bayes_error: float = 0.0

    @property
    def train(self) -> Split:
        return self.splits["train"]

    @property
    def test(self) -> Split:
        return self.splits["test"]

    @property
    def dev(self) -> Split | None:
        return self.splits.get("dev")

    def digest(self, split: str | None = None) -> str:
        """sha256 of the arrays a model is trained and evaluated on (every split, or one)."""
        digest = hashlib.sha256()
        for name, split in sorted(self.splits.items()) if split is None else [(split, self.splits[split])]:
            for array in (split.X, split.Y):
                digest.update(f"{name}{array.shape}{array.dtype}".encode())
                digest.update(array.tobytes())
        return digest.hexdigest()


def _split(X: np.ndarray, y: np.ndarray) -> Split:
    """From sklearn layout (m, n_x), (m,) to course layout (n_x, m), (1, m)."""
    return Split(np.ascontiguousarray(X.T, dtype=float), y.reshape(1, -1).astype(np.int64))


def two_circles(n: int, noise: float, rng: np.random.RandomState, factor: float = 0.8):
    """scikit-learn's ``make_circles(n, noise=noise, random_state=rng)``, the same draws
    in the same order, so the same points bit for bit (tests/data/test_datasets.py
    checks it against scikit-learn), without scikit-learn's second of import time."""
    n_out = n // 2
    outer, inner = (np.linspace(0, 2 * np.pi, k, endpoint=False) for k in (n_out, n - n_out))
    X = np.vstack([np.append(np.cos(outer), np.cos(inner) * factor), np.append(np.sin(outer), np.sin(inner) * factor)]).T
    return _shuffled_with_noise(X, n_out, noise, rng)


def two_moons(n: int, noise: float, rng: np.random.RandomState):
    """scikit-learn's ``make_moons(n, noise=noise, random_state=rng)``, bit for bit (as above)."""
    n_out = n // 2
    outer, inner = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n - n_out)
    X = np.vstack([np.append(np.cos(outer), 1 - np.cos(inner)), np.append(np.sin(outer), 1 - np.sin(inner) - 0.5)]).T
    return _shuffled_with_noise(X, n_out, noise, rng)


def _shuffled_with_noise(X: np.ndarray, n_out: int, noise: float, rng: np.random.RandomState):
    y = np.hstack([np.zeros(n_out, dtype=np.intp), np.ones(len(X) - n_out, dtype=np.intp)])
    order = np.arange(len(X))
    rng.shuffle(order)
    X, y = X[order], y[order]
    X += rng.normal(scale=noise, size=X.shape)
    return X, y


def circles(**_) -> Dataset:
    """The course's circles, exactly: seed 1 for 300 train, seed 2 for 100 test."""
    train = two_circles(300, 0.05, np.random.RandomState(1))
    test = two_circles(100, 0.05, np.random.RandomState(2))
    return Dataset("circles", {"train": _split(*train), "test": _split(*test)})


def moons(
    n_train: int = 300, n_dev: int = 200, n_test: int = 200, noise: float = 0.2, seed: int = 0,
    held_out_seed: int | None = None, **_,
) -> Dataset:
    """scikit-learn's two moons, one draw split into train / dev / test; or, with
    ``held_out_seed``, the training split drawn alone from ``seed`` (the course's
    week-2 set is ``make_moons(300, noise=.2)`` after ``np.random.seed(3)``, and a
    larger draw would move every point) and dev + test from a draw of their own."""

    def draw(n: int, seed: int):
        return two_moons(n, noise, np.random.RandomState(seed))

    if held_out_seed is None:
        return Dataset("moons", _three_way(*draw(n_train + n_dev + n_test, seed), n_train, n_dev))
    return Dataset("moons", {**_three_way(*draw(n_dev + n_test, held_out_seed), 0, n_dev), "train": _split(*draw(n_train, seed))})


def football(
    n_train: int = 100,
    n_dev: int = 200,
    n_test: int = 200,
    n_blobs: int = 24,
    blob_std: float = 0.15,
    label_noise: float = 0.10,
    seed: int = 0,
    **_,
) -> Dataset:
    """A small, noisy 2D set in the spirit of the course's football field.

    ``n_blobs`` blob centres are spread uniformly over [-1, 1]^2; the half above
    the median of the margin ``y - 0.35 sin(3x)`` (a wavy "kick line") is class 1,
    the other half class 0, so near the line blobs of both classes interleave.
    Points are dealt to the blobs in turn (shuffled), which keeps the classes
    balanced up to rounding; then a fraction ``label_noise`` of labels is flipped,
    symmetrically, so the balance stays ~50/50: no model can beat that noise, so
    its Bayes error is taken as ``label_noise`` (a floor: near the line, blobs of both
    classes also overlap). With only ``n_train`` = 100
    training points an unregularised [20,3] net bends its boundary around the
    flipped points and overfits; L2 or dropout narrow the train/dev gap.
    One ``RandomState(seed)`` draws, in order: centres, blob assignment, offsets, flips.
    """
    rng = np.random.RandomState(seed)
    centres = rng.uniform(-1.0, 1.0, size=(n_blobs, 2))
    margin = centres[:, 1] - 0.35 * np.sin(3.0 * centres[:, 0])
    centre_labels = (margin > np.median(margin)).astype(np.int64)
    n = n_train + n_dev + n_test
    which = rng.permutation(np.arange(n) % n_blobs)
    X = centres[which] + rng.normal(scale=blob_std, size=(n, 2))
    y = centre_labels[which]
    flip = rng.uniform(size=n) < label_noise
    y = np.where(flip, 1 - y, y)
    return Dataset("football", _three_way(X, y, n_train, n_dev), bayes_error=label_noise)


def digits(n_dev: int = 360, n_test: int = 360, seed: int = 0, **_) -> Dataset:
    """scikit-learn's bundled 8x8 handwritten digits (1797 images, 10 classes, no
    download): 64 pixel intensities 0..16 per example, labels 0..9. One seeded
    permutation, then test, dev and the rest (1077 by default) for training."""
    X, y = _load_digits()
    order = np.random.RandomState(seed).permutation(len(y))
    X, y = X[order], y[order]
    n_train = len(y) - n_dev - n_test
    if n_train < 1:
        raise InputError(f"dataset.n_dev, dataset.n_test: {n_dev} + {n_test} leave no training examples of {len(y)}")
    return Dataset("digits", _three_way(X, y, n_train, n_dev))


def _load_digits() -> tuple[np.ndarray, np.ndarray]:
    """``sklearn.datasets.load_digits(return_X_y=True)``: read from the file scikit-learn
    ships, as it reads it (a gzipped CSV, the label last), without importing scikit-learn
    (~0.8 s, in every process that trains on digits); scikit-learn's own loader if the
    file is not where scikit-learn keeps it."""
    package = importlib.util.find_spec("sklearn")  # finds, does not import
    folders = package.submodule_search_locations if package else None
    path = Path(folders[0]) / "datasets" / "data" / "digits.csv.gz" if folders else None
    if path is None or not path.is_file():
        import sklearn.datasets

        return sklearn.datasets.load_digits(return_X_y=True)
    with gzip.open(path, "rt", encoding="utf-8") as rows:
        data = np.loadtxt(rows, delimiter=",")
    return data[:, :-1], data[:, -1].astype(int)


def spiral(
    n_train: int = 300, n_dev: int = 150, n_test: int = 150, n_classes: int = 3, noise: float = 0.2, seed: int = 0, **_
) -> Dataset:
    """K interleaved spiral arms in 2D (the CS231n toy set), one arm per class:
    arm k has radius r = 0..1 and angle 4k + 4r + noise. Not linearly separable,
    so its decision regions show what a multi-class net learns. Equal arms
    (``(n_train + n_dev + n_test) // n_classes`` points each), shuffled once by
    ``RandomState(seed)`` (which also draws the noise) and cut into the splits."""
    rng = np.random.RandomState(seed)
    per_class = (n_train + n_dev + n_test) // n_classes
    X, y = [], []
    for k in range(n_classes):
        r = np.linspace(0.0, 1.0, per_class)
        t = np.linspace(4.0 * k, 4.0 * (k + 1), per_class) + rng.randn(per_class) * noise
        X.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
        y.append(np.full(per_class, k))
    X, y = np.concatenate(X), np.concatenate(y)
    order = rng.permutation(len(y))
    return Dataset("spiral", _three_way(X[order], y[order], n_train, n_dev))


def _three_way(X: np.ndarray, y: np.ndarray, n_train: int, n_dev: int) -> dict[str, Split]:
    """The first n_train rows, the next n_dev (no dev split when 0), the rest."""
    a, b = n_train, n_train + n_dev
    splits = {"train": _split(X[:a], y[:a]), "dev": _split(X[a:b], y[a:b]), "test": _split(X[b:], y[b:])}
    if n_dev == 0:
        del splits["dev"]
    return splits


def load_mat(path: str | None = None, **_) -> Dataset:
    """A course-style .mat file: X, y (train) and Xval, yval (test), rows = examples."""
    import scipy.io

    file = _existing_file(path, "dataset.path")
    try:
        data = scipy.io.loadmat(file)
    except Exception as error:  # scipy raises several types for a bad file
        raise InputError(f"dataset.path: {file} is not a readable .mat file ({type(error).__name__})") from None
    missing = [key for key in ("X", "y", "Xval", "yval") if key not in data]
    if missing:
        raise InputError(f"dataset.path: {file} lacks the keys {missing} (needs X, y, Xval, yval)")
    splits = {
        "train": _checked(data["X"].T, data["y"].T, f"{file} (X, y)"),
        "test": _checked(data["Xval"].T, data["yval"].T, f"{file} (Xval, yval)"),
    }
    return Dataset("mat", splits)


def load_npz(path: str | None = None, multiclass: bool = False, **_) -> Dataset:
    """An .npz written by ``save_npz``: X_train, Y_train, [X_dev, Y_dev,] X_test, Y_test,
    [bayes_error]. Labels 0/1, or class ids 0..K-1 with ``multiclass``."""
    file = _existing_file(path, "dataset.path")
    try:
        # An .npz is a zip archive: np.load reads anything else as .npy or a pickle,
        # and with pickles refused calls garbage "pickled data". (An open file, so
        # that an unreadable one is an OSError, not "not a zip".)
        with open(file, "rb") as f:
            if not zipfile.is_zipfile(f):
                raise InputError(f"dataset.path: {file} is not a valid .npz file (not a zip archive)")
        with np.load(file, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as error:
        raise InputError(f"dataset.path: {file} is not a readable .npz file without pickles ({error})") from None
    splits = {}
    for name in SPLITS:
        if f"X_{name}" in arrays and f"Y_{name}" in arrays:
            splits[name] = _checked(arrays[f"X_{name}"], arrays[f"Y_{name}"], f"{file} ({name})", multiclass)
    if "train" not in splits or "test" not in splits:
        raise InputError(f"dataset.path: {file} needs X_train, Y_train, X_test, Y_test")
    return Dataset(Path(file).stem, splits, float(arrays.get("bayes_error", 0.0)))


def save_npz(dataset: Dataset, path: str | Path) -> None:
    from ..io import atomic_write_npz

    arrays = {}
    for name, split in dataset.splits.items():
        arrays[f"X_{name}"], arrays[f"Y_{name}"] = split.X, split.Y
    if dataset.bayes_error:
        arrays["bayes_error"] = np.array(dataset.bayes_error)
    atomic_write_npz(path, **arrays)


def _existing_file(path: str | None, key: str) -> Path:
    if path in (None, "", "???"):
        raise InputError(f"{key}: no file given (set {key}=FILE)")
    file = Path(str(path)).expanduser()
    if not file.is_file():
        raise InputError(f"{key}: file not found: {file}")
    return file


def _checked(X, Y, where: str, multiclass: bool = False) -> Split:
    """Validate one split where it enters: finite features, 0/1 labels (class ids
    0, 1, 2, ... with ``multiclass``), matching m."""
    X = np.asarray(X)
    Y = np.asarray(Y).reshape(1, -1)
    if X.ndim != 2 or not np.issubdtype(X.dtype, np.number):
        raise InputError(f"{where}: X must be a 2D numeric array, got shape {X.shape} dtype {X.dtype}")
    if X.shape[1] != Y.shape[1]:
        raise InputError(f"{where}: X has {X.shape[1]} examples but y has {Y.shape[1]}")
    if not np.all(np.isfinite(X)):
        raise InputError(f"{where}: X contains NaN or inf")
    if multiclass:
        numeric = np.issubdtype(Y.dtype, np.number) and np.all(np.isfinite(Y))
        if not numeric or not np.all((Y >= 0) & (Y == np.round(Y))):
            bad = np.unique(Y[~((Y >= 0) & (Y == np.round(Y)))])[:5] if numeric else Y.dtype
            raise InputError(f"{where}: labels must be class ids 0, 1, ..., K-1, found {bad}")
    elif not np.issubdtype(Y.dtype, np.number) or not np.all(np.isin(Y, (0, 1))):
        bad = np.unique(Y[~np.isin(Y, (0, 1))])[:5] if np.issubdtype(Y.dtype, np.number) else Y.dtype
        raise InputError(f"{where}: labels must be 0 or 1, found {bad}")
    return Split(X.astype(float), Y.astype(np.int64))


def num_classes(dataset: Dataset) -> int:
    """K: one more than the largest training label (at least 2, the binary case).
    Dev and test labels must be classes the training split has room for."""
    K = max(2, int(dataset.train.Y.max(initial=0)) + 1)
    for name, split in dataset.splits.items():
        if split.Y.size and (split.Y.min() < 0 or split.Y.max() >= K):
            raise InputError(f"dataset {dataset.name}: {name} labels must be 0..{K - 1} (the training split's classes), found {np.unique(split.Y)[-5:]}")
    return K


LOADERS = {
    "circles": circles, "moons": moons, "football": football, "mat": load_mat, "npz": load_npz,
    "digits": digits, "spiral": spiral,
}


def load(name: str, **options) -> Dataset:
    if name not in LOADERS:
        raise InputError(f"dataset: unknown dataset {name!r} (choose from {', '.join(LOADERS)})")
    return LOADERS[name](**options)
