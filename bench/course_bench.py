"""Training time of the course-reproduction models, and their accuracies.

Run by hand: ``python -m bench.course_bench [--engine numpy|compiled]``. Sums
``RunResult.seconds`` (the training loop alone, as ``train`` measures it) over
course_init (zeros, random, he: 3 x 15000 iterations) and, when the course's
data.mat is present, course_regularization (baseline, L2, dropout: 3 x 30000
iterations). ``numpy`` (what rng=course picks) gives the course's bits;
``compiled`` keeps the course's seeding but not its bits: the accuracies must
still match the published ones.
"""
from __future__ import annotations

import argparse
import time

from src.config import run_config
from src.recipe import train

PUBLISHED = {
    ("course_init", "init=zeros"): (0.5, 0.5),
    ("course_init", "init=random"): (0.83, 0.86),
    ("course_init", "init=he"): (0.9933, 0.96),
    ("course_regularization", "lambd=0"): (0.9479, 0.915),
    ("course_regularization", "lambd=0.7"): (0.9384, 0.93),
    ("course_regularization", "keep_prob=0.86"): (0.9289, 0.95),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("numpy", "compiled"), default="numpy")
    args = parser.parse_args()
    total_train = total_iterations = 0.0
    wall = time.perf_counter()
    print("| preset | variant | iterations | train s | train/test | published | match |")
    print("|---|---|---|---|---|---|---|")
    for (preset, variant), published in PUBLISHED.items():
        overrides = [f"experiment={preset}", variant, "tracking=false", f"engine={args.engine}"]
        cfg = run_config(overrides)
        result = train(cfg)
        ours = (round(result.metrics["train_accuracy"], 4), round(result.metrics["test_accuracy"], 4))
        total_train += result.seconds
        total_iterations += cfg.num_iterations
        print(f"| {preset} | {variant} | {cfg.num_iterations} | {result.seconds:.2f} | {ours[0]}/{ours[1]} "
              f"| {published[0]}/{published[1]} | {'yes' if ours == published else 'NO'} |")
    print(f"\nengine {args.engine}, {int(total_iterations)} iterations: {total_train:.2f} s of training "
          f"({total_train / total_iterations * 1e6:.1f} us/iteration), {time.perf_counter() - wall:.2f} s wall in all")


if __name__ == "__main__":
    main()
