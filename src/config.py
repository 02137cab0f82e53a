"""The run configuration: every root key's default, parsed and validated once.

``RunConfig`` is the one place a default lives. Hydra composes the command line
onto these defaults (``register`` stores them as ``run_defaults``, which
conf/config.yaml lists first; the ``optimizer`` group is made from
``nn.optimizers``' own defaults), and ``RunConfig.parse(cfg)`` turns the composed
config into a frozen, typed object, raising ``InputError`` that names the key
for any bad value. Code past the entry point reads attributes, never
``cfg.get(key, DEFAULT)``.

    python -m src.train --cfg job      # every key and its value
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from . import PROJECT_ROOT
from .data.augment import FLIPS
from .errors import InputError
from .nn.batchnorm import EPSILON, MOMENTUM
from .nn.init import INITIALIZERS
from .nn.kernels import ENGINES
from .nn.model import OUTPUTS
from .nn.optimizers import OPTIMIZERS
from .nn.schedules import SCHEDULES
from .randomness import RANDOMNESS

CONF_DIR = PROJECT_ROOT / "conf"
ENGINE_CHOICES = ("auto", *ENGINES)
STOPPING_METRICS = ("cost", "error")


@dataclass(frozen=True, kw_only=True)
class LrDecay:
    schedule: str = "none"    # none | inverse_time | exponential | staircase (src/nn/schedules.py)
    decay_rate: float = 1.0   # inverse_time, staircase: >= 0; exponential: lr * decay_rate**epoch, 0 < rate <= 1
    interval: int = 1000      # staircase: epochs per step


@dataclass(frozen=True, kw_only=True)
class EarlyStopping:
    patience: int = 0         # epochs without dev improvement before stopping; 0 = off
    min_delta: float = 0.0    # an improvement must beat the best by more than this
    every: int | None = None  # check every N epochs; None = cost_every
    metric: str = "cost"      # cost (dev cross-entropy) | error (1 - dev accuracy)


@dataclass(frozen=True, kw_only=True)
class Augment:                # training split only (src/data/augment.py); off unless flip or jitter is set
    flip: str | None = None   # None | x | y | xy: add mirrored copies (feature negated)
    jitter: float = 0.0       # std of Gaussian noise added to the copies (>= 0)
    copies: int = 1           # augmented copies of the training split (>= 1)

    @property
    def on(self) -> bool:
        return self.flip is not None or self.jitter > 0


@dataclass(frozen=True, kw_only=True)
class Optimizer:
    name: str = "gd"          # gd | momentum | rmsprop | adam (src/nn/optimizers.py holds their defaults)
    hyper: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    """One training run. Field order is the order of a run's config.yaml."""

    init: str = "he"                  # zeros | random | he | xavier | glorot
    lambd: float = 0.0                # L2 strength (>= 0)
    keep_prob: float = 1.0            # inverted-dropout keep probability, 0 < p <= 1
    learning_rate: float = 0.01
    num_iterations: int = 15000
    layers: tuple[int, ...] = (10, 5)  # hidden layer sizes; input and output sizes come from the data
    output: str = "auto"              # auto (sigmoid for 2 classes, softmax for more) | sigmoid | softmax
    batch_norm: bool = False          # batch normalization on hidden layers (gamma, beta; no bias b there)
    bn_momentum: float = MOMENTUM     # running statistics: m * running + (1 - m) * batch, 0 <= m < 1
    bn_epsilon: float = EPSILON       # added to the variance before the square root (> 0)
    seed: int = 3
    rng: str = "modern"               # modern (np.random.Generator) | course (bit-exact course seeding)
    normalize: bool = True            # standardise inputs with the training split's mean and std
    cost_every: int = 100             # record the cost every N iterations (and at the last one)
    engine: str = "auto"              # auto (compiled for rng=modern and >= 20000 iterations, else numpy) | numpy | compiled
    batch_size: int | None = None     # examples per mini-batch, reshuffled every epoch; None = full batch
    shuffle_seed: int | None = None   # seeds the mini-batch order on its own (week 2 uses 10); None = from seed
    lr_decay: LrDecay = field(default_factory=LrDecay)
    early_stopping: EarlyStopping = field(default_factory=EarlyStopping)
    augment: Augment = field(default_factory=Augment)
    bayes_error: float | None = None  # the best achievable error (bias/variance diagnosis); None = the dataset's own
    out_dir: str | None = None        # where run outputs go; None = Hydra's run dir
    tracking: bool = True             # log the run to MLflow (src/tracking/); false = no MLflow at all
    log_model: bool = True            # also log the network as an MLflow model (~0.4 s a CLI run, 0.1 s in a sweep)
    dataset: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({"name": "circles"}))  # a conf/dataset/ entry
    optimizer: Optimizer = field(default_factory=Optimizer)

    @classmethod
    def parse(cls, cfg: DictConfig | Mapping) -> "RunConfig":
        """The validated run config of a composed Hydra config (other sections, such as
        ``hydra`` or ``gradcheck``, are left out). A key it lacks takes its default."""
        values = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
        return _parse(values)

    def to_dict(self) -> dict:
        """Plain values in field order (the optimizer as its name and settings), as config.yaml holds them."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "optimizer":
                out[f.name] = {"name": value.name, **value.hyper}
            elif f.name == "layers":
                out[f.name] = list(value)
            elif f.name == "dataset":
                out[f.name] = dict(value)
            elif dataclasses.is_dataclass(value):
                out[f.name] = dataclasses.asdict(value)
            else:
                out[f.name] = value
        return out

    def to_yaml(self) -> str:
        return OmegaConf.to_yaml(OmegaConf.create(self.to_dict()))

    def replace(self, **changes) -> "RunConfig":
        return dataclasses.replace(self, **changes)


# --- validation, where input enters ----------------------------------------------------


def _number(value, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"{key}: expected a finite number, got {value!r}")
    return float(value)


def _integer(value, key: str, low: int, allow_null: bool = False) -> int | None:
    if allow_null and value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        null = " or null" if allow_null else ""
        raise InputError(f"{key}: must be an integer >= {low}{null}, got {value!r}")
    return value


def _boolean(value, key: str) -> bool:
    if not isinstance(value, bool):
        raise InputError(f"{key}: must be true or false, got {value!r}")
    return value


def _choice(value, key: str, choices, what: str) -> str:
    if value not in choices:
        raise InputError(f"{key}: unknown {what} {value!r} (choose from {', '.join(map(str, choices))})")
    return value


def _section(values: Mapping, key: str) -> dict:
    section = values.get(key)
    if section is None:
        return {}
    if not isinstance(section, Mapping):
        raise InputError(f"{key}: expected a group of settings, got {section!r}")
    return dict(section)


def _parse(values: Mapping) -> RunConfig:
    defaults = RunConfig()
    get = lambda key: values.get(key, getattr(defaults, key))  # noqa: E731
    init = _choice(get("init"), "init", INITIALIZERS, "initialiser")
    rng = _choice(get("rng"), "rng", RANDOMNESS, "mode")
    lambd = _number(get("lambd"), "lambd")
    if lambd < 0:
        raise InputError(f"lambd: must be >= 0, got {get('lambd')}")
    keep_prob = _number(get("keep_prob"), "keep_prob")
    if not 0 < keep_prob <= 1:
        raise InputError(f"keep_prob: must be in (0, 1], got {get('keep_prob')}")
    learning_rate = _number(get("learning_rate"), "learning_rate")
    if learning_rate <= 0:
        raise InputError(f"learning_rate: must be > 0, got {get('learning_rate')}")
    num_iterations = _integer(get("num_iterations"), "num_iterations", 1)
    cost_every = _integer(get("cost_every"), "cost_every", 1)
    seed = get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"seed: must be an integer >= 0, got {seed!r}")
    layers = get("layers")
    if (
        not isinstance(layers, Sequence)
        or isinstance(layers, str)
        or len(layers) == 0
        or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in layers)
    ):
        raise InputError(f"layers: must be a non-empty list of positive integers, e.g. [20,3]; got {layers!r}")
    bn_momentum = _number(get("bn_momentum"), "bn_momentum")
    if not 0 <= bn_momentum < 1:
        raise InputError(f"bn_momentum: must be in [0, 1), got {get('bn_momentum')}")
    bn_epsilon = _number(get("bn_epsilon"), "bn_epsilon")
    if not bn_epsilon > 0:
        raise InputError(f"bn_epsilon: must be > 0, got {get('bn_epsilon')}")
    bayes_error = get("bayes_error")
    if bayes_error is not None and not 0 <= _number(bayes_error, "bayes_error") < 1:
        raise InputError(f"bayes_error: must be in [0, 1) or null, got {bayes_error}")
    dataset = _section(values, "dataset") or dict(defaults.dataset)
    if "name" not in dataset:
        raise InputError("dataset: the group needs a name (choose a conf/dataset/ entry, e.g. dataset=circles)")
    out_dir = get("out_dir")
    return RunConfig(
        init=init,
        lambd=lambd,
        keep_prob=keep_prob,
        learning_rate=learning_rate,
        num_iterations=num_iterations,
        layers=tuple(layers),
        output=_choice(get("output"), "output", OUTPUTS, "output"),
        batch_norm=_boolean(get("batch_norm"), "batch_norm"),
        bn_momentum=bn_momentum,
        bn_epsilon=bn_epsilon,
        seed=seed,
        rng=rng,
        normalize=_boolean(get("normalize"), "normalize"),
        cost_every=cost_every,
        engine=_choice(get("engine"), "engine", ENGINE_CHOICES, "engine"),
        batch_size=_integer(get("batch_size"), "batch_size", 1, allow_null=True),
        shuffle_seed=_integer(get("shuffle_seed"), "shuffle_seed", 0, allow_null=True),
        lr_decay=_lr_decay(_section(values, "lr_decay")),
        early_stopping=_early_stopping(_section(values, "early_stopping")),
        augment=_augment(_section(values, "augment")),
        bayes_error=None if bayes_error is None else float(bayes_error),
        out_dir=None if out_dir is None else str(out_dir),
        tracking=_boolean(get("tracking"), "tracking"),
        log_model=_boolean(get("log_model"), "log_model"),
        dataset=MappingProxyType(dataset),
        optimizer=_optimizer(values.get("optimizer")),
    )


def _optimizer(value) -> Optimizer:
    if value is None:
        return Optimizer()
    section = dict(value) if isinstance(value, Mapping) else {"name": value}
    name = _choice(section.pop("name", None), "optimizer", OPTIMIZERS, "optimizer")
    allowed = OPTIMIZERS[name].hyper
    hyper = {}
    for key, setting in section.items():
        if key not in allowed:
            raise InputError(f"optimizer.{key}: not a setting of {name} (it takes: {', '.join(allowed) or 'none'})")
        setting = _number(setting, f"optimizer.{key}")
        if key == "epsilon" and not setting > 0:
            raise InputError(f"optimizer.epsilon: must be > 0, got {setting}")
        if key.startswith("beta") and not 0 <= setting < 1:
            raise InputError(f"optimizer.{key}: must be in [0, 1), got {setting}")
        hyper[key] = setting
    return Optimizer(name=name, hyper=MappingProxyType(hyper))


def _lr_decay(section: dict) -> LrDecay:
    d = LrDecay()
    schedule = _choice(section.get("schedule", d.schedule), "lr_decay.schedule", SCHEDULES, "schedule")
    rate = _number(section.get("decay_rate", d.decay_rate), "lr_decay.decay_rate")
    if schedule == "exponential" and not 0 < rate <= 1:
        raise InputError(f"lr_decay.decay_rate: exponential decay needs 0 < decay_rate <= 1, got {rate}")
    if rate < 0:
        raise InputError(f"lr_decay.decay_rate: must be >= 0, got {rate}")
    return LrDecay(schedule=schedule, decay_rate=rate,
                   interval=_integer(section.get("interval", d.interval), "lr_decay.interval", 1))


def _early_stopping(section: dict) -> EarlyStopping:
    d = EarlyStopping()
    min_delta = _number(section.get("min_delta", d.min_delta), "early_stopping.min_delta")
    if min_delta < 0:
        raise InputError(f"early_stopping.min_delta: must be >= 0, got {min_delta}")
    metric = section.get("metric", d.metric)
    if metric not in STOPPING_METRICS:
        raise InputError(f"early_stopping.metric: must be cost or error, got {metric!r}")
    return EarlyStopping(
        patience=_integer(section.get("patience", d.patience), "early_stopping.patience", 0),
        min_delta=min_delta,
        every=_integer(section.get("every", d.every), "early_stopping.every", 1, allow_null=True),
        metric=metric,
    )


def _augment(section: dict) -> Augment:
    d = Augment()
    flip = section.get("flip", d.flip)
    if flip not in FLIPS:
        raise InputError(f"augment.flip: must be null, x, y or xy, got {flip!r}")
    jitter = _number(section.get("jitter", d.jitter), "augment.jitter")
    if jitter < 0:
        raise InputError(f"augment.jitter: must be >= 0, got {jitter}")
    return Augment(flip=flip, jitter=jitter, copies=_integer(section.get("copies", d.copies), "augment.copies", 1))


# --- Hydra ------------------------------------------------------------------------------


def register() -> None:
    """Give Hydra the defaults: ``run_defaults`` (every root key but the groups) and the
    ``optimizer`` group (one entry per update rule, with its own defaults)."""
    store = ConfigStore.instance()
    root = {k: v for k, v in RunConfig().to_dict().items() if k not in ("dataset", "optimizer")}
    store.store(name="run_defaults", node=root)
    for name, rule in OPTIMIZERS.items():
        store.store(group="optimizer", name=name, node={"name": name, **rule.hyper})


register()

# ``${project_root:}`` in conf/: files the project ships (the course's data.mat) are
# found whatever the current directory.
if not OmegaConf.has_resolver("project_root"):
    OmegaConf.register_new_resolver("project_root", lambda: str(PROJECT_ROOT))


def run_config(overrides: Sequence[str] = ()) -> RunConfig:
    """The run ``python -m src.train OVERRIDES`` would train."""
    return RunConfig.parse(compose(overrides))


def compose(overrides: Sequence[str] = (), config_name: str = "config") -> DictConfig:
    """conf/<config_name>.yaml with ``overrides``, exactly as the CLI composes it."""
    from hydra import compose as hydra_compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return hydra_compose(config_name, overrides=list(overrides))
