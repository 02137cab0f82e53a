"""Validation of the root configuration keys, where input enters.

Each check raises ``InputError`` naming the key and what it accepts, so every
CLI reports a mistyped override in one line.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

from omegaconf import DictConfig, ListConfig

from .errors import InputError
from .nn.init import INITIALIZERS
from .randomness import RANDOMNESS


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
