"""Stage ``normalize``: standardise every split with the training split's statistics.

    python -m src.stages.normalize RAW.npz OUT.npz STATS.json

Mean and std are fitted on ``train`` only and reused, unchanged, for dev and
test (``src/normalize.py``; a constant feature is divided by 1, not 0), so no
statistic of the evaluation splits leaks into the model's inputs.
"""
from __future__ import annotations


from .. import data, normalize
from ..cli import arguments, report_errors
from ..io import atomic_write_json


def standardise(dataset: data.Dataset) -> tuple[data.Dataset, normalize.Stats]:
    stats = normalize.fit(dataset.train.X)
    splits = {name: data.Split(normalize.apply(s.X, stats), s.Y) for name, s in dataset.splits.items()}
    return data.Dataset(dataset.name, splits), stats


@report_errors
def main(argv: list[str] | None = None) -> None:
    argv = arguments(argv, 3, "python -m src.stages.normalize RAW.npz OUT.npz STATS.json")
    raw, out, stats_path = argv
    dataset, stats = standardise(data.load_npz(raw))
    data.save_npz(dataset, out)
    atomic_write_json(stats_path, {**stats.to_dict(), "fitted_on": "train", "m_train": int(dataset.train.X.shape[1])})
    print(f"{dataset.name}: mean {stats.mean.ravel().round(4).tolist()}, std {stats.std.ravel().round(4).tolist()} (train) -> {out}")


if __name__ == "__main__":
    main()
