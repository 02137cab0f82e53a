"""What one training run writes to its output directory.

Only deterministic content, so a rerun with the same config hashes the same:
``metrics.json``, ``tags.json`` (the diagnosis, as MLflow tags it), ``costs.csv``,
``params.npz``, ``config.yaml``, ``dataset.json`` (the data's hashes and sizes, a few
examples as the dataset gives them), ``normalization.json`` (with ``normalize``: the
training split's mean and std, which the logged model applies to its input),
``cost.png`` and, for 2D data, ``boundary.png``; a tracked run adds
``gradcheck.json`` (its at-init gradient check). The pipeline keeps these as DVC
outputs; the tracking logs the directory into MLflow, the same way live or later
(``python -m src.tracking.relog DIR``): the directory is the run.
"""
from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np

from . import figures
from .errors import InputError
from .io import atomic_path, atomic_write_json, atomic_write_npz, atomic_write_text


def title(run) -> str:
    """The figures' title, e.g. ``he-l2=0.7-kp=1.0``."""
    return f"{run.init}-l2={run.lambd}-kp={run.keep_prob}"


def write(result, run, directory: str | Path, draw=figures.draw) -> Path:
    """``result`` of the run configured by ``run`` (a RunConfig) into ``directory``;
    ``draw`` draws its figures (src/figures.py: here, or in a helper process)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    atomic_write_json(directory / "metrics.json", {k: round(float(v), 12) for k, v in result.metrics.items()})
    atomic_write_json(directory / "tags.json", result.tags)
    lines = ["step,cost"] + [f"{s},{c!r}" for s, c in zip(result.cost_steps, result.costs)]
    atomic_write_text(directory / "costs.csv", "\n".join(lines) + "\n")
    atomic_write_npz(directory / "params.npz", **{k: np.asarray(v) for k, v in result.params.items()})
    atomic_write_text(directory / "config.yaml", run.to_yaml())
    atomic_write_json(directory / "dataset.json", dataset_facts(result.dataset, result.input_example))
    if result.input_stats is not None:
        atomic_write_json(directory / "normalization.json", result.input_stats.to_dict())
    train = result.dataset.train
    draw(result.cost_steps, result.costs, result.params, train.X, train.Y, directory, title(run))
    return directory


def dataset_facts(dataset, example: np.ndarray) -> dict:
    """What the tracking says of a run's data: its hash, each split's hash and size, the
    number of features, and ``example``: training examples as rows, as the dataset gives
    them (the model's input example)."""
    return {
        "digest": dataset.digest(),
        "features": int(dataset.train.X.shape[0]),
        "splits": {name: {"digest": dataset.digest(name), "examples": int(split.X.shape[1])}
                   for name, split in dataset.splits.items()},
        "example": np.asarray(example).tolist(),
    }


def write_gradcheck(check, directory: str | Path) -> None:
    """A run's at-init gradient check: its difference and the one rule's verdict."""
    atomic_write_json(Path(directory) / "gradcheck.json", {"difference": check.difference, "verdict": check.verdict})


@contextlib.contextmanager
def prepare(directory: str | Path):
    """Create the output directory and prove it writable before any training, so a bad
    ``out_dir`` fails fast, naming the key, with nothing written; if the run then fails
    before writing (bad data, a diverged cost), the folders made here go again."""
    directory = Path(directory)
    made = [folder for folder in (directory, *directory.parents) if not folder.exists()]  # deepest first
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with atomic_path(directory / ".write-test"):
            pass
        (directory / ".write-test").unlink()
    except OSError as error:
        raise InputError(f"out_dir: cannot write to {directory} ({error.strerror or error})") from None
    try:
        yield directory
    except BaseException:
        for folder in made:
            with contextlib.suppress(OSError):  # not empty: the run wrote there, keep it
                folder.rmdir()
        raise
