"""Validation of the root configuration keys, where input enters.

Each check raises ``InputError`` naming the key and what it accepts, so every
CLI reports a mistyped override in one line.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig, ListConfig, OmegaConf

from .errors import InputError
from .augment import FLIPS
from .nn.init import INITIALIZERS
from .nn.batchnorm import EPSILON, MOMENTUM
from .nn.fit import ENGINES
from .nn.model import OUTPUTS
from .nn.optimizers import OPTIMIZERS
from .nn.schedules import SCHEDULES
from .randomness import RANDOMNESS

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# ``${project_root:}`` in conf/: files the project ships (the course's data.mat) are
# found whatever the current directory.
if not OmegaConf.has_resolver("project_root"):
    OmegaConf.register_new_resolver("project_root", lambda: str(PROJECT_ROOT))


def _number(cfg, key: str) -> float:
    value = cfg.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"{key}: expected a finite number, got {value!r}")
    return value


def validate(cfg: DictConfig) -> None:
    if cfg.init not in INITIALIZERS:
        raise InputError(f"init: unknown initialiser {cfg.init!r} (choose from {', '.join(INITIALIZERS)})")
    if cfg.rng not in RANDOMNESS:
        raise InputError(f"rng: unknown mode {cfg.rng!r} (choose from {', '.join(RANDOMNESS)})")
    if _number(cfg, "lambd") < 0:
        raise InputError(f"lambd: must be >= 0, got {cfg.lambd}")
    if not 0 < _number(cfg, "keep_prob") <= 1:
        raise InputError(f"keep_prob: must be in (0, 1], got {cfg.keep_prob}")
    if _number(cfg, "learning_rate") <= 0:
        raise InputError(f"learning_rate: must be > 0, got {cfg.learning_rate}")
    for key in ("num_iterations", "cost_every"):
        value = cfg.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputError(f"{key}: must be an integer >= 1, got {value!r}")
    if isinstance(cfg.seed, bool) or not isinstance(cfg.seed, int) or cfg.seed < 0:
        raise InputError(f"seed: must be an integer >= 0, got {cfg.seed!r}")
    _integer(cfg.get("shuffle_seed"), "shuffle_seed", 0, allow_null=True)
    layers = cfg.layers
    if (
        not isinstance(layers, (ListConfig, Sequence))
        or isinstance(layers, str)
        or len(layers) == 0
        or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in layers)
    ):
        raise InputError(f"layers: must be a non-empty list of positive integers, e.g. [20,3]; got {layers!r}")
    if not isinstance(cfg.normalize, bool):
        raise InputError(f"normalize: must be true or false, got {cfg.normalize!r}")
    engine = cfg.get("engine", "auto")
    if engine not in ("auto", *ENGINES):
        raise InputError(f"engine: unknown engine {engine!r} (choose from auto, {', '.join(ENGINES)})")
    validate_model(cfg)
    validate_training(cfg)


def validate_model(cfg: DictConfig) -> None:
    """Output layer and batch norm (issue 10); optional, defaults as the course's model."""
    output = cfg.get("output", "auto")
    if output not in OUTPUTS:
        raise InputError(f"output: unknown output {output!r} (choose from {', '.join(OUTPUTS)})")
    if not isinstance(cfg.get("batch_norm", False), bool):
        raise InputError(f"batch_norm: must be true or false, got {cfg.batch_norm!r}")
    if not 0 <= _finite(cfg.get("bn_momentum", MOMENTUM), "bn_momentum") < 1:
        raise InputError(f"bn_momentum: must be in [0, 1), got {cfg.bn_momentum}")
    if not _finite(cfg.get("bn_epsilon", EPSILON), "bn_epsilon") > 0:
        raise InputError(f"bn_epsilon: must be > 0, got {cfg.bn_epsilon}")


def _finite(value, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"{key}: expected a finite number, got {value!r}")
    return value


def _integer(value, key: str, low: int, allow_null: bool = False) -> None:
    if allow_null and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        null = " or null" if allow_null else ""
        raise InputError(f"{key}: must be an integer >= {low}{null}, got {value!r}")


def validate_training(cfg: DictConfig) -> None:
    """Optimizer, mini-batches, decay, early stopping, augmentation, Bayes error
    (issue 8). Every key is optional: a config without it trains as the course does."""
    opt = cfg.get("optimizer")
    if opt is not None:
        name = opt.get("name") if isinstance(opt, DictConfig) else opt
        if name not in OPTIMIZERS:
            raise InputError(f"optimizer: unknown optimizer {name!r} (choose from {', '.join(OPTIMIZERS)})")
        if isinstance(opt, DictConfig):
            allowed = OPTIMIZERS[name].hyper
            for key, value in opt.items():
                if key == "name":
                    continue
                if key not in allowed:
                    choices = ", ".join(allowed) or "none"
                    raise InputError(f"optimizer.{key}: not a setting of {name} (it takes: {choices})")
                _finite(value, f"optimizer.{key}")
                if key == "epsilon" and not value > 0:
                    raise InputError(f"optimizer.epsilon: must be > 0, got {value}")
                if key.startswith("beta") and not 0 <= value < 1:
                    raise InputError(f"optimizer.{key}: must be in [0, 1), got {value}")
    _integer(cfg.get("batch_size"), "batch_size", 1, allow_null=True)
    decay = cfg.get("lr_decay")
    if decay is not None:
        schedule = decay.get("schedule", "none")
        if schedule not in SCHEDULES:
            raise InputError(f"lr_decay.schedule: unknown schedule {schedule!r} (choose from {', '.join(SCHEDULES)})")
        rate = _finite(decay.get("decay_rate", 1.0), "lr_decay.decay_rate")
        if schedule == "exponential" and not 0 < rate <= 1:
            raise InputError(f"lr_decay.decay_rate: exponential decay needs 0 < decay_rate <= 1, got {rate}")
        if rate < 0:
            raise InputError(f"lr_decay.decay_rate: must be >= 0, got {rate}")
        _integer(decay.get("interval", 1000), "lr_decay.interval", 1)
    stopping = cfg.get("early_stopping")
    if stopping is not None:
        _integer(stopping.get("patience", 0), "early_stopping.patience", 0)
        if _finite(stopping.get("min_delta", 0.0), "early_stopping.min_delta") < 0:
            raise InputError(f"early_stopping.min_delta: must be >= 0, got {stopping.min_delta}")
        _integer(stopping.get("every"), "early_stopping.every", 1, allow_null=True)
        if stopping.get("metric", "cost") not in ("cost", "error"):
            raise InputError(f"early_stopping.metric: must be cost or error, got {stopping.metric!r}")
    augment = cfg.get("augment")
    if augment is not None:
        if augment.get("flip") not in FLIPS:
            raise InputError(f"augment.flip: must be null, x, y or xy, got {augment.flip!r}")
        if _finite(augment.get("jitter", 0.0), "augment.jitter") < 0:
            raise InputError(f"augment.jitter: must be >= 0, got {augment.jitter}")
        _integer(augment.get("copies", 1), "augment.copies", 1)
    bayes = _finite(cfg.get("bayes_error", 0.0), "bayes_error")
    if not 0 <= bayes < 1:
        raise InputError(f"bayes_error: must be in [0, 1), got {bayes}")
