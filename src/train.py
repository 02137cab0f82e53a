"""Train one model: ``python -m src.train [overrides]``; sweep with ``-m``.

``train(cfg)`` is the plain function (tests and pipeline stages call it);
``main`` is the thin Hydra entry point around it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import hydra
import numpy as np
from omegaconf import DictConfig, OmegaConf

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode

from . import artifacts, data, normalize, tracking
from .config import validate
from .errors import InputError, report_errors
from .nn.fit import fit
from .nn.init import initialize
from .nn.model import accuracy
from .randomness import make_randomness


@dataclass
class RunResult:
    params: dict[str, np.ndarray]
    initial_params: dict[str, np.ndarray]
    dataset: data.Dataset
    cost_steps: list[int]
    costs: list[float]
    metrics: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


def load_dataset(cfg: DictConfig) -> data.Dataset:
    """The configured dataset, standardised with its training statistics if asked."""
    options = OmegaConf.to_container(cfg.dataset, resolve=True)
    dataset = data.load(options.pop("name"), **options)
    if cfg.normalize:
        stats = normalize.fit(dataset.train.X)
        dataset = data.Dataset(
            dataset.name,
            {name: data.Split(normalize.apply(s.X, stats), s.Y) for name, s in dataset.splits.items()},
        )
    return dataset


def train(cfg: DictConfig, on_cost=None) -> RunResult:
    validate(cfg)
    dataset = load_dataset(cfg)
    randomness = make_randomness(cfg.rng, cfg.seed)
    dims = [dataset.train.X.shape[0], *cfg.layers, 1]
    initial = initialize(dims, cfg.init, randomness.normal)
    start = time.perf_counter()
    fitted = fit(
        initial,
        dataset.train.X,
        dataset.train.Y,
        learning_rate=cfg.learning_rate,
        num_iterations=cfg.num_iterations,
        lambd=cfg.lambd,
        keep_prob=cfg.keep_prob,
        draw_masks=randomness.dropout_masks,
        cost_every=cfg.cost_every,
        on_cost=on_cost,
    )
    seconds = time.perf_counter() - start
    metrics = {f"{name}_accuracy": accuracy(s.X, s.Y, fitted.params) for name, s in dataset.splits.items()}
    metrics["final_cost"] = fitted.costs[-1]
    return RunResult(fitted.params, initial, dataset, fitted.cost_steps, fitted.costs, metrics, seconds)


def summary(result: RunResult) -> str:
    parts = [f"{name} accuracy {result.metrics[f'{name}_accuracy']:.4f}" for name in data.SPLITS if f"{name}_accuracy" in result.metrics]
    return ", ".join(parts) + f" (final cost {result.metrics['final_cost']:.6f}, {result.seconds:.2f} s)"


def run_job(cfg: DictConfig) -> float:
    """One training job: train, write the run directory, track it in MLflow."""
    with tracking.start(cfg) as run:  # a no-op with tracking=false; an error ends the run FAILED
        result = train(cfg, on_cost=run.log_cost)
        print(summary(result))
        out_dir = cfg.get("out_dir") or HydraConfig.get().runtime.output_dir
        artifacts.write(result, cfg, out_dir)
        run.log_result(cfg, result, out_dir)
    return result.metrics.get("dev_accuracy", result.metrics["test_accuracy"])


@hydra.main(config_path="../conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> float:
    if HydraConfig.get().mode == RunMode.MULTIRUN:
        # A sweep job's error goes back to Hydra, which lets the other jobs finish
        # and then fails the sweep; report_errors' exit would kill them all.
        return run_job(cfg)
    return report_errors(run_job)(cfg)


if __name__ == "__main__":
    main()
