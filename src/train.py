"""Train one model: ``python -m src.train [overrides]``; sweep with ``-m``.

``run_job(cfg)`` is one job: parse the config once, train (src/recipe.py), check the
gradients at initialisation, write the run directory, and hand all of it to the
tracking to log. ``main`` is the thin Hydra entry point around it.
"""
from __future__ import annotations

import os
import sys
import warnings

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from . import artifacts, figures, recipe
from .tracking import sweep_helper
from .tracking.background import prefork, track
from .tracking.runs import run_name, sweep_job
from .cli import run
from .config import CONF_DIR, RunConfig
from .data.datasets import SPLITS
from .workers import LauncherGone, dying_with_launcher, stop_if_launcher_gone

GRADCHECK_EXAMPLES = 64  # the tracked at-init check: cheap on purpose


def summary(result: recipe.RunResult) -> str:
    parts = [f"{name} accuracy {result.metrics[f'{name}_accuracy']:.4f}" for name in SPLITS if f"{name}_accuracy" in result.metrics]
    return ", ".join(parts) + f" (final cost {result.metrics['final_cost']:.6f}, {result.seconds:.2f} s)"


def train_holding_warnings(run_config: RunConfig, on_cost=None) -> recipe.RunResult:
    """``recipe.train``, with numpy's warnings shown only if the run succeeds: on the
    way to a NaN cost they are a dozen lines that say less than the one-line
    DivergedError (iteration and hint) that follows."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        result = recipe.train(run_config, on_cost=on_cost)
    for w in caught:
        warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return result


def run_job(cfg: DictConfig) -> float:
    """One training job: train, write the run directory, track it in MLflow."""
    try:
        # In a sweep's worker, the job stops if the launching process dies.
        with track(cfg) as tracked, dying_with_launcher():  # an error ends the run FAILED
            # Bad config and an unwritable out_dir fail before any training or file,
            # inside the run, so a sweep shows the failed job and its message.
            run_config = RunConfig.parse(cfg)
            with artifacts.prepare(run_config.out_dir or HydraConfig.get().runtime.output_dir) as out_dir:
                def on_cost(step: int, value: float) -> None:
                    stop_if_launcher_gone()  # at every recorded cost, should the signal's raise be lost
                    tracked.log_cost(step, value)

                # An untracked single run draws its figures in a helper that imports matplotlib as
                # it trains. (A sweep's jobs keep both cores busy; a tracked run's other core is its
                # tracking helper's, the slower of the two: the job's own core is free to draw.)
                in_sweep = sweep_job() is not None
                with figures.drawing(in_helper=not run_config.tracking and not in_sweep) as draw:
                    result = train_holding_warnings(run_config, on_cost=on_cost)
                    # A sweep's jobs finish in any order: each line says which run it is, and goes
                    # out in one write (print writes its newline apart: parallel jobs' lines interleaved).
                    line = f"{run_name(cfg)}: {summary(result)}" if in_sweep else summary(result)
                    print(line + "\n", end="", flush=True)
                    artifacts.write(result, run_config, out_dir, draw=draw)
                if run_config.tracking:
                    check = recipe.gradient_check(run_config, result.initial_params, result.dataset.train, GRADCHECK_EXAMPLES)
                    artifacts.write_gradcheck(check, out_dir)
                tracked.log_result(out_dir, train_seconds=result.seconds)
    except LauncherGone:
        os._exit(143)  # its run is ended KILLED; nobody is left to report to (128 + SIGTERM)
    return result.metrics.get("dev_accuracy", result.metrics["test_accuracy"])


# Errors propagate: in a sweep Hydra lets the other jobs finish, then re-raises,
# and src.cli.run turns any failure into one line on stderr and exit status 1.
@hydra.main(config_path=str(CONF_DIR), config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> float:
    return run_job(cfg)


def cli() -> None:
    """``python -m src.train``: the tracking helper (a sweep's: src/tracking/sweep_helper.py)
    starts importing MLflow while Hydra composes, then the job or the sweep runs."""
    prefork(sys.argv[1:])
    sweep_helper.prefork(sys.argv[1:])
    run(main)


if __name__ == "__main__":
    cli()
