"""Dev accuracy with and without early stopping on football, over several seeds.

    .venv/bin/python bench/early_stopping_bench.py [--seeds 1,2,3,4,5] [--patience 1000] [overrides...]

For each seed, trains the configured model to the end and again with
``early_stopping.patience`` (dev cross-entropy checked every ``cost_every``
epochs, best parameters restored) and prints train / dev / test accuracy of
both, the best iteration, and the mean over seeds.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from hydra import compose, initialize_config_dir  # noqa: E402

from src.train import train  # noqa: E402

PRESETS = {
    "default": [],  # the root config: layers [10,5], he, learning_rate 0.01, 15000 epochs
    "overfit": ["layers=[20,3]", "init=xavier", "learning_rate=0.3", "num_iterations=30000"],  # sweep_regularization's net
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1,2,3,4,5")
    parser.add_argument("--patience", type=int, default=1000)
    parser.add_argument("--preset", choices=PRESETS, default=None, help="default: all presets")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    for preset in [args.preset] if args.preset else PRESETS:
        base = ["dataset=football", "tracking=false", *PRESETS[preset], *args.overrides]
        print(f"\n{preset}: {' '.join(base[2:]) or '(root config)'}; patience {args.patience}")
        print("| seed | train end | dev end | test end | train ES | dev ES | test ES | best iteration |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        rows = []
        for seed in seeds:
            with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
                end = compose("config", [*base, f"seed={seed}"])
                stop = compose("config", [*base, f"seed={seed}", f"early_stopping.patience={args.patience}"])
            a, b = train(end).metrics, train(stop).metrics
            row = [a["train_accuracy"], a["dev_accuracy"], a["test_accuracy"], b["train_accuracy"], b["dev_accuracy"],
                   b["test_accuracy"], b["best_iteration"]]
            rows.append(row)
            print(f"| {seed} | " + " | ".join(f"{v:.3f}" for v in row[:-1]) + f" | {int(row[-1])} |")
        mean = np.mean(rows, axis=0)
        print("| mean | " + " | ".join(f"{v:.3f}" for v in mean[:-1]) + f" | {mean[-1]:.0f} |")


if __name__ == "__main__":
    main()
