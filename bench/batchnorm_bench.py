"""Batch norm lets a deep net train at learning rates where the plain net cannot.

    .venv/bin/python bench/batchnorm_bench.py [--layers 64,64,64,64] [--epochs 300]
        [--rates 0.5,1,2,4,8] [--rate 4] [--seeds 0,1,2,3,4] [--out FILE.md]

Digits (normalised with the training statistics), He init, full-batch gradient
descent, softmax over 10 classes; the same initial weights with and without batch
norm (``batch_norm=true`` only swaps the hidden biases for gamma/beta). Table 1:
every rate of ``--rates`` at ``--seeds``' first seed. Table 2: ``--rate`` at every
seed. Outcome: "diverged @i" = the cost became NaN/inf (first noticed at epoch i,
the cost is checked every 50), "stalled" = final training cost above 90% of
log K = 2.30, the cost of guessing uniformly (e.g. dead ReLUs: the net predicts
the most frequent class whatever the input), "trained" otherwise. Accuracies come from ``src.train.train``, as the CLI logs them.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from hydra import compose, initialize_config_dir  # noqa: E402

from src.nn import model  # noqa: E402
from src.nn.fit import DivergedError  # noqa: E402
from src.train import train  # noqa: E402


def config(overrides: list[str]):
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        return compose("config", ["dataset=digits", "init=he", "tracking=false", "cost_every=50", *overrides])


def run(layers: str, rate: float, epochs: int, seed: int, batch_norm: bool) -> dict:
    cfg = config([f"layers=[{layers}]", f"learning_rate={rate}", f"num_iterations={epochs}", f"seed={seed}",
                  f"batch_norm={str(batch_norm).lower()}"])
    start = time.perf_counter()
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # the overflow is the point; reported as "diverged"
            result = train(cfg)
    except DivergedError as error:
        return {"outcome": f"diverged @{error.iteration}", "seconds": time.perf_counter() - start}
    last = result.costs[-1]
    classes = model.num_classes(result.params)
    return {
        "outcome": "stalled" if last > 0.9 * np.log(classes) else "trained",
        "final_cost": last,
        **{k: result.metrics[f"{k}_accuracy"] for k in ("train", "dev", "test")},
        "seconds": time.perf_counter() - start,
    }


def row(label: str, r: dict) -> str:
    if "final_cost" not in r:
        return f"| {label} | {r['outcome']} | - | - | - | - | {r['seconds']:.1f} |"
    return (f"| {label} | {r['outcome']} | {r['final_cost']:.4f} | {r['train']:.4f} | {r['dev']:.4f} | "
            f"{r['test']:.4f} | {r['seconds']:.1f} |")


HEADER = ["| run | outcome | final train cost | train acc | dev acc | test acc | seconds |", "|---|---|---|---|---|---|---|"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", default="64,64,64,64")
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--rates", default="0.5,1,2,4,8")
    parser.add_argument("--rate", type=float, default=4.0, help="the rate of the per-seed table")
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--out", type=Path, default=None, help="also write the tables here (markdown)")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    lines = [f"# Batch norm vs none: digits, layers [{args.layers}], He init, full-batch GD, {args.epochs} epochs", ""]

    def emit(line: str) -> None:
        lines.append(line)
        print(line, flush=True)

    for line in lines:
        print(line)
    emit(f"## Learning-rate grid (seed {seeds[0]})")
    emit("")
    for line in HEADER:
        emit(line)
    for rate in [float(r) for r in args.rates.split(",")]:
        for bn in (False, True):
            emit(row(f"lr {rate:g}, {'batch norm' if bn else 'no batch norm'}", run(args.layers, rate, args.epochs, seeds[0], bn)))
    emit("")
    emit(f"## Learning rate {args.rate:g}, every seed")
    emit("")
    for line in HEADER:
        emit(line)
    tally = {False: 0, True: 0}
    for seed in seeds:
        for bn in (False, True):
            r = run(args.layers, args.rate, args.epochs, seed, bn)
            tally[bn] += r["outcome"] == "trained" and r["train"] > 0.99
            emit(row(f"seed {seed}, {'batch norm' if bn else 'no batch norm'}", r))
    emit("")
    emit(f"At learning rate {args.rate:g}: {tally[True]}/{len(seeds)} seeds train with batch norm "
         f"(train accuracy > 0.99), {tally[False]}/{len(seeds)} without.")
    if args.out is not None:
        args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
