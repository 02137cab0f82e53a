"""Log a run directory into MLflow, after the fact.

    python -m src.tracking.relog RUN_DIR [--run-id ID]

A run whose tracking store stopped answering (a tracking server that went away)
ends with this command in its last line: the training result is complete on
disk, and once the store answers again this logs it. With ``--run-id`` it
completes that run (the cost points it lacks, then everything else, and ends it
FINISHED; if it was ended KILLED meanwhile, its ``error`` tag moves to
``ended_before_relog``); without, it makes a new run. What it logs is what a live run logs:
``runs.log_directory`` reads the same files, and the cost curve comes from
costs.csv.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from ..cli import report_errors
from ..errors import InputError
from .runs import COST_BATCH, config_params, dataset_label, log_directory
from .store import ERROR_TAG, open_store, source_tags

ENDED_BEFORE_TAG = "ended_before_relog"
NEEDED = ("config.yaml", "metrics.json", "tags.json", "dataset.json", "costs.csv", "params.npz")


def cost_points(costs_csv: Path, after: int = -1) -> list[tuple[int, float]]:
    """The (step, cost) pairs of costs.csv with a step above ``after``."""
    lines = costs_csv.read_text().splitlines()[1:]
    points = [(int(step), float(value)) for step, value in (line.split(",") for line in lines)]
    return [(step, value) for step, value in points if step > after]


def relog(run_dir: Path, run_id: str | None = None) -> str:
    """Log ``run_dir`` into the run ``run_id`` (or a new one); the run's id."""
    import yaml
    from mlflow.entities import Metric, Param

    missing = [name for name in NEEDED if not (run_dir / name).is_file()]
    if missing:
        raise InputError(f"{run_dir}: not a complete run directory (no {', '.join(missing)})")
    client, experiment_id = open_store()
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    last_step = -1
    if run_id is None:
        name = f"{dataset_label(config['dataset'])} {config['init']} (logged from {run_dir})"
        tags = {**source_tags(), "relogged_from": str(run_dir)}
        run_id = client.create_run(experiment_id, run_name=name[:250], tags=tags).info.run_id
        client.log_batch(run_id, params=[Param(k, v[:6000]) for k, v in config_params(config).items()])
    else:
        try:
            history = client.get_metric_history(run_id, "cost")
            earlier = client.get_run(run_id)
        except Exception as error:  # noqa: BLE001 (MLflow says "not found" several ways)
            raise InputError(f"--run-id: no run {run_id} in {experiment_id} ({type(error).__name__})") from None
        last_step = max((point.step for point in history), default=-1)
        if ERROR_TAG in earlier.data.tags:
            # Ended meanwhile (the reaper saw its process gone while the store was down):
            # complete now, so no error; what was said is kept under another name.
            client.set_tag(run_id, ENDED_BEFORE_TAG, f"{earlier.info.status}: {earlier.data.tags[ERROR_TAG]}"[:5000])
            client.delete_tag(run_id, ERROR_TAG)
    now = int(time.time() * 1000)
    points = [Metric("cost", value, now, step) for step, value in cost_points(run_dir / "costs.csv", last_step)]
    for start in range(0, len(points), COST_BATCH):
        client.log_batch(run_id, metrics=points[start : start + COST_BATCH])
    log_directory(client, run_id, run_dir)
    client.set_tag(run_id, "relogged_from", str(run_dir))
    client.set_terminated(run_id, "FINISHED")
    return run_id


@report_errors
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m src.tracking.relog", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="a run's output directory (out_dir)")
    parser.add_argument("--run-id", help="complete this MLflow run instead of making a new one")
    args = parser.parse_args(argv)
    run_id = relog(args.run_dir, args.run_id)
    print(f"logged {args.run_dir} into run {run_id}")


if __name__ == "__main__":
    main()
