"""Train one model: ``python -m src.train [overrides]``; sweep with ``-m``.

``train(cfg)`` is the plain function (tests and pipeline stages call it);
``main`` is the thin Hydra entry point around it.
"""
from __future__ import annotations

import importlib.util
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import hydra
import numpy as np
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf
from threadpoolctl import threadpool_limits

from . import artifacts, data, normalize, tracking
from .augment import augment_split
from .cli import run
from .config import validate
from .diagnosis import diagnose_accuracy
from .errors import InputError
from .nn.batchnorm import EPSILON, MOMENTUM
from .nn.fit import EarlyStopping, fit
from .nn.init import initialize
from .nn.model import accuracy, add_batch_norm, data_loss, forward, output_units
from .nn.schedules import learning_rates
from .randomness import make_randomness

COMPILED_FROM_ITERATIONS = 20_000  # engine=auto: shorter runs keep the numpy kernel (see engine)
AUGMENT_STREAM = 8  # seeds augmentation's generator together with the run's seed


@dataclass
class RunResult:
    params: dict[str, np.ndarray]
    initial_params: dict[str, np.ndarray]
    dataset: data.Dataset
    cost_steps: list[int]
    costs: list[float]
    metrics: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    # Labels for MLflow tags (not numbers): the bias/variance diagnosis and its next step.
    tags: dict[str, str] = field(default_factory=dict)


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


def initial_params(cfg: DictConfig, dataset: data.Dataset, randomness) -> dict[str, np.ndarray]:
    """The untrained network: input size from the data, the hidden ``layers``, one
    sigmoid unit for two classes or K softmax units (``output``), and batch norm
    on the hidden layers if ``batch_norm`` (which draws no extra randomness)."""
    classes = data.num_classes(dataset)
    output = cfg.get("output", "auto")
    if output == "sigmoid" and classes != 2:
        raise InputError(f"output: sigmoid needs 2 classes, dataset {dataset.name} has {classes} (use softmax or auto)")
    dims = [dataset.train.X.shape[0], *cfg.layers, output_units(classes, output)]
    params = initialize(dims, cfg.init, randomness.normal)
    if cfg.get("batch_norm", False):
        params = add_batch_norm(params, cfg.get("bn_epsilon", EPSILON))
    return params


def train(cfg: DictConfig, on_cost=None) -> RunResult:
    validate(cfg)
    dataset = load_dataset(cfg)
    randomness = make_randomness(cfg.rng, cfg.seed, cfg.get("shuffle_seed"))
    initial = initial_params(cfg, dataset, randomness)
    fit_train = training_split(cfg, dataset)
    start = time.perf_counter()
    # One BLAS thread: these matrices are tiny, so threads only add overhead,
    # and a fixed thread count keeps results bit-identical on any machine.
    with threadpool_limits(1, user_api="blas"):
        fitted = fit(
            initial,
            fit_train.X,
            fit_train.Y,
            learning_rate=cfg.learning_rate,
            num_iterations=cfg.num_iterations,
            lambd=cfg.lambd,
            keep_prob=cfg.keep_prob,
            draw_masks=randomness.dropout_masks,
            cost_every=cfg.cost_every,
            on_cost=on_cost,
            bn_momentum=cfg.get("bn_momentum", MOMENTUM),
            **training_options(cfg, dataset, randomness),
        )
    seconds = time.perf_counter() - start
    metrics = {f"{name}_accuracy": accuracy(s.X, s.Y, fitted.params) for name, s in dataset.splits.items()}
    metrics["final_cost"] = fitted.costs[-1]
    if fitted.best_iteration is not None:
        metrics["best_iteration"] = fitted.best_iteration
        metrics["stopped_early"] = float(fitted.stopped_early)
    if fit_train is not dataset.train:
        metrics["train_examples_augmented"] = fit_train.X.shape[1]
    held_out = "dev" if dataset.dev is not None else "test"
    found = diagnose_accuracy(metrics["train_accuracy"], metrics[f"{held_out}_accuracy"], cfg.get("bayes_error", 0.0))
    metrics["avoidable_bias"], metrics["variance"] = found["avoidable_bias"], found["variance"]
    tags = {"diagnosis": found["diagnosis"], "next_step": found["next_step"], "diagnosis_split": held_out}
    return RunResult(fitted.params, initial, dataset, fitted.cost_steps, fitted.costs, metrics, seconds, tags)


def training_split(cfg: DictConfig, dataset: data.Dataset) -> data.Split:
    """The split gradient descent sees: the training split, augmented if asked
    (``augment``); dev and test are never touched."""
    options = cfg.get("augment") or {}
    if options.get("flip") is None and not options.get("jitter", 0.0):
        return dataset.train
    # Its own stream, so turning augmentation on leaves the weights' draws alone.
    rng = np.random.default_rng([AUGMENT_STREAM, cfg.seed])
    return augment_split(dataset.train, rng, options.get("flip"), options.get("jitter", 0.0), options.get("copies", 1))


def engine(cfg: DictConfig) -> str:
    """The kernel of the course's case (plain full-batch gd): ``engine``, where auto
    means the numba kernel (not bit-identical to numpy) unless rng=course promises
    the course's bits, and only for runs long enough to repay numba's start-up in a
    fresh process (~0.4 s; it saves ~24 us an iteration: break-even ~17k)."""
    chosen = cfg.get("engine", "auto")
    if chosen != "auto":
        return chosen
    long_enough = cfg.num_iterations >= COMPILED_FROM_ITERATIONS
    return "compiled" if cfg.rng == "modern" and long_enough and importlib.util.find_spec("numba") else "numpy"


def training_options(cfg: DictConfig, dataset: data.Dataset, randomness) -> dict:
    """fit's keywords beyond the course's: optimizer, mini-batches, decay, early stopping, engine."""
    opt = cfg.get("optimizer") or "gd"
    name, hyper = (opt, {}) if isinstance(opt, str) else (opt.name, {k: v for k, v in opt.items() if k != "name"})
    decay = cfg.get("lr_decay") or {}
    schedule = decay.get("schedule", "none")
    options = {
        "optimizer": name,
        "optimizer_options": hyper,
        "batch_size": cfg.get("batch_size"),
        "shuffle": randomness.shuffle,
        "lr_schedule": None if schedule == "none" else learning_rates(
            schedule, cfg.learning_rate, decay.get("decay_rate", 1.0), decay.get("interval", 1000),
            set_after_epoch=cfg.rng == "course"),  # the course's timing is part of its bits
        "engine": engine(cfg),
    }
    stopping = cfg.get("early_stopping") or {}
    if stopping.get("patience", 0) > 0:
        dev = dataset.dev
        if dev is None:
            raise InputError(f"early_stopping.patience: dataset {dataset.name} has no dev split to stop on (use 0)")
        if stopping.get("metric", "cost") == "error":
            score = lambda params: 1.0 - accuracy(dev.X, dev.Y, params)  # noqa: E731
        else:
            score = lambda params: data_loss(forward(dev.X, params)[0], dev.Y)  # noqa: E731
        options["early_stopping"] = EarlyStopping(
            score, stopping.patience, stopping.get("min_delta", 0.0), stopping.get("every") or cfg.cost_every)
    return options


def summary(result: RunResult) -> str:
    parts = [f"{name} accuracy {result.metrics[f'{name}_accuracy']:.4f}" for name in data.SPLITS if f"{name}_accuracy" in result.metrics]
    return ", ".join(parts) + f" (final cost {result.metrics['final_cost']:.6f}, {result.seconds:.2f} s)"


def train_holding_warnings(cfg: DictConfig, on_cost=None) -> RunResult:
    """``train``, with numpy's warnings shown only if the run succeeds: on the way
    to a NaN cost they are a dozen lines that say less than the one-line
    DivergedError (iteration and hint) that follows."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        result = train(cfg, on_cost=on_cost)
    for w in caught:
        warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return result


def run_job(cfg: DictConfig) -> float:
    """One training job: train, write the run directory, track it in MLflow."""
    with tracking.start(cfg) as tracked:  # a no-op with tracking=false; an error ends the run FAILED
        # Bad config and an unwritable out_dir fail before any training or file,
        # inside the run, so a sweep shows the failed job and its message.
        validate(cfg)
        out_dir = artifacts.prepare(cfg.get("out_dir") or HydraConfig.get().runtime.output_dir)
        result = train_holding_warnings(cfg, on_cost=tracked.log_cost)
        print(summary(result))
        artifacts.write(result, cfg, out_dir)
        tracked.log_result(cfg, result, out_dir)
    return result.metrics.get("dev_accuracy", result.metrics["test_accuracy"])


# Errors propagate: in a sweep Hydra lets the other jobs finish, then re-raises,
# and src.cli.run turns any failure into one line on stderr and exit status 1.
@hydra.main(config_path=str(Path(__file__).resolve().parents[1] / "conf"), config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> float:
    return run_job(cfg)


if __name__ == "__main__":
    run(main)
