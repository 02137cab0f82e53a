"""The run recipe: from a ``RunConfig`` to a trained network.

One place says how a run is made, and everything that trains or re-creates a
run uses it (the train and gradcheck CLIs, the pipeline's stages and studies):

1. the data: the configured dataset, standardised with its training statistics
   when ``normalize`` (``load_dataset``, ``input_transform``);
2. the starting weights: input size from the data, the hidden ``layers``, a
   sigmoid or softmax output, batch norm if asked (``initial_params``), drawn
   from the run's randomness (src/randomness.py);
3. the split gradient descent sees: the training split, augmented if asked
   (``training_split``);
4. how it trains: optimizer, mini-batches, decay, early stopping and the kernel
   (``fit_options``), then ``train`` runs it and measures the result, including
   its bias/variance diagnosis (src/diagnosis.py).
"""
from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from .config import RunConfig
from .data import datasets
from .data.augment import augment_split
from .data.standardize import Stats, standardize
from .diagnosis import diagnose_accuracy
from .errors import InputError
from .nn import kernels
from .nn.fit import EarlyStopping
from .nn.gradient_check import GradcheckResult
from .nn.init import initialize
from .nn.model import accuracy, add_batch_norm, data_loss, forward, output_units
from .nn.network_check import check_model
from .nn.schedules import learning_rates
from .randomness import make_randomness

COMPILED_FROM_ITERATIONS = 20_000  # engine=auto: shorter runs keep the numpy kernel (see engine)
AUGMENT_STREAM = 8  # seeds augmentation's generator together with the run's seed
INPUT_EXAMPLES = 5  # training examples a run keeps as the model's input example


@dataclass
class RunResult:
    params: dict[str, np.ndarray]
    initial_params: dict[str, np.ndarray]
    dataset: datasets.Dataset
    cost_steps: list[int]
    costs: list[float]
    metrics: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    # Labels for MLflow tags (not numbers): the bias/variance diagnosis and its next step.
    tags: dict[str, str] = field(default_factory=dict)
    # The input as the dataset gives it, which the logged model takes: the standardisation
    # training applied to it (None without ``normalize``) and a few training examples, as rows.
    input_stats: Stats | None = None
    input_example: np.ndarray | None = None


def load_raw_dataset(run: RunConfig) -> datasets.Dataset:
    """The configured dataset as its file or generator gives it."""
    options = dict(run.dataset)
    return datasets.load(options.pop("name"), **options)


def input_transform(run: RunConfig, raw: datasets.Dataset) -> tuple[datasets.Dataset, Stats | None]:
    """``raw`` as the network sees it, standardised with its training statistics if
    ``normalize``, and those statistics (None if not)."""
    return standardize(raw) if run.normalize else (raw, None)


def load_dataset(run: RunConfig) -> datasets.Dataset:
    """The configured dataset as the network sees it (``input_transform``)."""
    return input_transform(run, load_raw_dataset(run))[0]


def initial_params(run: RunConfig, dataset: datasets.Dataset, randomness=None) -> dict[str, np.ndarray]:
    """The untrained network: input size from the data, the hidden ``layers``, one
    sigmoid unit for two classes or K softmax units (``output``), and batch norm
    on the hidden layers if ``batch_norm`` (which draws no extra randomness).
    ``randomness``: the run's (default: a fresh one, so the very weights training started from)."""
    randomness = randomness or make_randomness(run.rng, run.seed, run.shuffle_seed)
    classes = datasets.num_classes(dataset)
    if run.output == "sigmoid" and classes != 2:
        raise InputError(f"output: sigmoid needs 2 classes, dataset {dataset.name} has {classes} (use softmax or auto)")
    dims = [dataset.train.X.shape[0], *run.layers, output_units(classes, run.output)]
    params = initialize(dims, run.init, randomness.normal)
    return add_batch_norm(params, run.bn_epsilon) if run.batch_norm else params


def training_split(run: RunConfig, dataset: datasets.Dataset) -> datasets.Split:
    """The split gradient descent sees: the training split, augmented if asked
    (``augment``); dev and test are never touched."""
    if not run.augment.on:
        return dataset.train
    # Its own stream, so turning augmentation on leaves the weights' draws alone.
    rng = np.random.default_rng([AUGMENT_STREAM, run.seed])
    a = run.augment
    return augment_split(dataset.train, rng, a.flip, a.jitter, a.copies)


def engine(run: RunConfig) -> str:
    """The kernel of the course's case (plain full-batch gd): ``engine``, where auto
    means the numba kernel (not bit-identical to numpy) unless rng=course promises
    the course's bits, and only for runs long enough to repay numba's start-up in a
    fresh process (~0.4 s; it saves ~24 us an iteration: break-even ~17k)."""
    if run.engine != "auto":
        return run.engine
    long_enough = run.num_iterations >= COMPILED_FROM_ITERATIONS
    return "compiled" if run.rng == "modern" and long_enough and importlib.util.find_spec("numba") else "numpy"


def fit_options(run: RunConfig, dataset: datasets.Dataset, randomness) -> dict:
    """``nn.kernels.fit``'s keywords for this run."""
    decay = run.lr_decay
    options = {
        "learning_rate": run.learning_rate,
        "num_iterations": run.num_iterations,
        "lambd": run.lambd,
        "keep_prob": run.keep_prob,
        "draw_masks": randomness.dropout_masks,
        "cost_every": run.cost_every,
        "optimizer": run.optimizer.name,
        "optimizer_options": dict(run.optimizer.hyper),
        "batch_size": run.batch_size,
        "shuffle": randomness.shuffle,
        # rng=course keeps the course's timing: its model() sets a decayed rate after each epoch
        "lr_schedule": None if decay.schedule == "none" else learning_rates(
            decay.schedule, run.learning_rate, decay.decay_rate, decay.interval, set_after_epoch=run.rng == "course"),
        "bn_momentum": run.bn_momentum,
        "engine": engine(run),
    }
    stopping = run.early_stopping
    if stopping.patience > 0:
        dev = dataset.dev
        if dev is None:
            raise InputError(f"early_stopping.patience: dataset {dataset.name} has no dev split to stop on (use 0)")
        if stopping.metric == "error":
            score = lambda params: 1.0 - accuracy(dev.X, dev.Y, params)  # noqa: E731
        else:
            score = lambda params: data_loss(forward(dev.X, params)[0], dev.Y)  # noqa: E731
        options["early_stopping"] = EarlyStopping(score, stopping.patience, stopping.min_delta, stopping.every or run.cost_every)
    return options


def train(run: RunConfig, on_cost=None) -> RunResult:
    """Train the configured network; its metrics (accuracy per split, final cost, the
    diagnosis's avoidable bias and variance) and, as tags, the bias/variance diagnosis,
    made here once, against ``bayes_error`` (by default the dataset's own)."""
    raw = load_raw_dataset(run)
    dataset, stats = input_transform(run, raw)
    randomness = make_randomness(run.rng, run.seed, run.shuffle_seed)
    initial = initial_params(run, dataset, randomness)
    fit_train = training_split(run, dataset)
    start = time.perf_counter()
    # One BLAS thread: these matrices are tiny, so threads only add overhead,
    # and a fixed thread count keeps results bit-identical on any machine.
    with threadpool_limits(1, user_api="blas"):
        fitted = kernels.fit(initial, fit_train.X, fit_train.Y, on_cost=on_cost, **fit_options(run, dataset, randomness))
    seconds = time.perf_counter() - start
    metrics = {f"{name}_accuracy": accuracy(s.X, s.Y, fitted.params) for name, s in dataset.splits.items()}
    metrics["final_cost"] = fitted.costs[-1]
    if fitted.best_iteration is not None:
        metrics["best_iteration"] = fitted.best_iteration
        metrics["stopped_early"] = float(fitted.stopped_early)
    if fit_train is not dataset.train:
        metrics["train_examples_augmented"] = fit_train.X.shape[1]
    held_out = "dev" if dataset.dev is not None else "test"
    bayes_error = dataset.bayes_error if run.bayes_error is None else run.bayes_error
    found = diagnose_accuracy(metrics["train_accuracy"], metrics[f"{held_out}_accuracy"], bayes_error)
    metrics["avoidable_bias"], metrics["variance"] = found["avoidable_bias"], found["variance"]
    tags = {"diagnosis": found["diagnosis"], "next_step": found["next_step"], "diagnosis_split": held_out,
            "bayes_error": repr(bayes_error)}
    return RunResult(fitted.params, initial, dataset, fitted.cost_steps, fitted.costs, metrics, seconds, tags,
                     input_stats=stats, input_example=raw.train.X[:, :INPUT_EXAMPLES].T)


def gradient_check(run: RunConfig, params: dict[str, np.ndarray], split: datasets.Split,
                   max_examples: int | None = None, **options) -> GradcheckResult:
    """The network's gradient check at ``params`` on (the first ``max_examples`` of)
    ``split``, with the run's L2 term; dropout is off (random masks make the cost
    random). ``options``: ``check_model``'s (epsilon, threshold, subset, inject, ...)."""
    X, Y = (split.X, split.Y) if max_examples is None else (split.X[:, :max_examples], split.Y[:, :max_examples])
    with threadpool_limits(1):  # tiny matrices: BLAS threads only slow the many small products
        return check_model(params, X, Y, run.lambd, **options)
