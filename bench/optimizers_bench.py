"""Epochs and wall time to a target training cost: gd / momentum / rmsprop / adam on football.

    .venv/bin/python bench/optimizers_bench.py [--budget 10000] [--rates 0.001,0.003,...] [overrides...]

The race of ``src/pipeline/optimizer_race.py`` (the pipeline's ``optimizer_race`` stage,
section (f) of reports/report.md), with the wall time the report leaves out:
the seconds each optimizer took at its best rate to reach the target (the cost
is computed every epoch, so the times include it). Default settings: conf/studies.yaml
``optimizers``, the stage's own, except the data, generated in-process (dataset=football,
standardised with the training statistics, as the pipeline does).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from src.cli import report_errors  # noqa: E402
from src.pipeline.common import settings  # noqa: E402
from src.pipeline.optimizer_race import run  # noqa: E402


@report_errors
def main() -> None:
    defaults = settings("optimizers")  # the stage's settings (conf/studies.yaml), not a copy
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=defaults["budget"])
    parser.add_argument("--rates", default=",".join(map(str, defaults["rates"])))
    parser.add_argument("overrides", nargs="*", help="Hydra overrides after the defaults, e.g. layers=[20,3]")
    args = parser.parse_args()
    overrides = ["dataset=football", *(o for o in defaults["overrides"] if not o.startswith(("dataset", "normalize"))),
                 *args.overrides]
    record, _, seconds = run(overrides, args.budget, [float(r) for r in args.rates.split(",")])
    base = record["baseline"]
    print(f"{record['dataset']} ({record['training_examples']} examples), {' '.join(overrides)}, full batch")
    print(f"target: gd at {base['learning_rate']:g} after {base['epochs']} epochs -> cost {base['target_cost']:.6f}\n")
    print("| optimizer | best learning_rate | epochs to target | seconds to target | gd's epochs / its epochs |")
    print("| --- | --- | --- | --- | --- |")
    for name in record["order"]:
        e = record["optimizers"][name]
        if e["epochs_to_target"] is None:
            print(f"| {name} | - | not reached | - | - |")
            continue
        print(f"| {name} | {e['best_rate']:g} | {e['epochs_to_target']} | {seconds[name]:.3f} | "
              f"{e['fewer_epochs_than_gd']:.2f}x |")


if __name__ == "__main__":
    main()
