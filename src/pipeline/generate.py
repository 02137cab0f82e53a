"""Stage ``generate``: one dataset, all its splits, to ``data/raw/<name>.npz``.

    python -m src.pipeline.generate NAME OUT.npz [--option VALUE ...]

The generator's keyword arguments (``src/data/datasets.py``) are the dataset's own
settings, conf/dataset/NAME.yaml (what ``python -m src.train dataset=NAME`` trains
on), and ``--option VALUE`` pairs override them. Every generator is seeded, so the
file is the same on every run. Course layout, no pickles.
"""
from __future__ import annotations

import inspect
import sys

import yaml

from .. import PROJECT_ROOT
from ..cli import report_errors
from ..data import datasets
from ..errors import InputError

GENERATORS = {"circles": datasets.circles, "football": datasets.football, "moons": datasets.moons}


def generate(name: str, options: dict) -> datasets.Dataset:
    """The named dataset; an option the generator does not take is an error, not ignored."""
    if name not in GENERATORS:
        raise InputError(f"generate: unknown dataset {name!r} (choose from {', '.join(GENERATORS)})")
    accepted = [p.name for p in inspect.signature(GENERATORS[name]).parameters.values() if p.kind is p.KEYWORD_ONLY or p.kind is p.POSITIONAL_OR_KEYWORD]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise InputError(f"generate.{name}: unknown option(s) {unknown} (takes {', '.join(accepted) or 'none'})")
    return GENERATORS[name](**options)


def settings(name: str) -> dict:
    """conf/dataset/NAME.yaml without its name and its nulls (a null is the generator's default)."""
    try:
        conf = yaml.safe_load((PROJECT_ROOT / "conf" / "dataset" / f"{name}.yaml").read_text())
    except OSError:
        raise InputError(f"generate: no dataset settings conf/dataset/{name}.yaml") from None
    return {key: value for key, value in conf.items() if key != "name" and value is not None}


def parse_options(args: list[str]) -> dict:
    """``--n_train 100 --noise 0.2`` (DVC's dict unpacking) -> {"n_train": 100, "noise": 0.2}."""
    if len(args) % 2 or not all(key.startswith("--") for key in args[::2]):
        raise InputError(f"generate: options must be --key value pairs, got {' '.join(args)!r}")
    return {key[2:]: yaml.safe_load(value) for key, value in zip(args[::2], args[1::2])}


@report_errors
def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 2:
        raise InputError("usage: python -m src.pipeline.generate NAME OUT.npz [--option VALUE ...]")
    name, out = argv[0], argv[1]
    dataset = generate(name, {**settings(name), **parse_options(argv[2:])})
    datasets.save_npz(dataset, out)
    sizes = ", ".join(f"{split} {s.X.shape[1]} (class 1: {s.Y.mean():.2f})" for split, s in dataset.splits.items())
    print(f"{name}: {sizes} -> {out}")


if __name__ == "__main__":
    main()
