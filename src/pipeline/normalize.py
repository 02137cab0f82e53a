"""Stage ``normalize``: standardise every split with the training split's statistics.

    python -m src.pipeline.normalize RAW.npz OUT.npz STATS.json

Mean and std are fitted on ``train`` only and reused, unchanged, for dev and
test (``src/data/standardize.py``; a constant feature is divided by 1, not 0), so
no statistic of the evaluation splits leaks into the model's inputs.
"""
from __future__ import annotations

from ..cli import arguments, report_errors
from ..data import datasets
from ..data.standardize import standardize
from ..io import atomic_write_json


@report_errors
def main(argv: list[str] | None = None) -> None:
    argv = arguments(argv, 3, "python -m src.pipeline.normalize RAW.npz OUT.npz STATS.json")
    raw, out, stats_path = argv
    dataset, stats = standardize(datasets.load_npz(raw))
    datasets.save_npz(dataset, out)
    atomic_write_json(stats_path, {**stats.to_dict(), "fitted_on": "train", "m_train": int(dataset.train.X.shape[1])})
    print(f"{dataset.name}: mean {stats.mean.ravel().round(4).tolist()}, std {stats.std.ravel().round(4).tolist()} (train) -> {out}")


if __name__ == "__main__":
    main()
