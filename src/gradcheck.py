"""Gradient checking of the configured model: ``python -m src.gradcheck [train overrides]``.

Prints one row per parameter array (shape, coordinates checked, relative difference,
verdict, worst entry) at initialisation and, with ``gradcheck.train_iterations``,
after that much training; exits 1 when the check fails. The checker itself is
pure and lives in the network core (src/nn/gradient_check.py, the one verdict
rule; src/nn/network_check.py, the network's cost); this module is its CLI and
its tables, and re-exports the library API:

    from src.gradcheck import check_gradients     # (cost_fn, params, grads, epsilon=1e-7)
"""
from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from typing import Callable

import hydra
import numpy as np
from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig

from . import recipe
from .cli import run
from .config import CONF_DIR, RunConfig
from .errors import InputError
from .nn.fit import DivergedError
from .nn.gradient_check import THRESHOLD, GradcheckResult, check_gradients, relative_difference  # noqa: F401 (the API)
from .nn.network_check import check_model, param_name  # noqa: F401 (the API)


@dataclass(frozen=True)
class Options:
    """The ``gradcheck:`` keys (conf/gradcheck.yaml); the defaults are these."""

    epsilon: float = 1e-7             # two-sided step
    threshold: float = THRESHOLD      # pass mark for the overall difference (the course's)
    train_iterations: int = 0         # 0 = check at initialisation only; N = also after N iterations of training
    inject: str | None = None         # plant a bug: multiply this gradient (W2, or dW2) by inject_factor
    inject_factor: float = 2.0
    subset: int | None = None         # None = every coordinate; N = N random coordinates per array (seeded by `seed`)
    vectorised: bool = True           # batch many shifts per numpy call; false = one cost_fn call per shift

    @classmethod
    def parse(cls, cfg: DictConfig, run_config: RunConfig) -> "Options":
        """Validated options of a composed config; a config without the section gets the defaults."""
        section = cfg.get("gradcheck") or {}
        defaults = cls()
        get = lambda key: section.get(key, getattr(defaults, key))  # noqa: E731

        def positive(key):
            value = get(key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value <= 0:
                raise InputError(f"gradcheck.{key}: expected a finite number > 0, got {value!r}")
            return float(value)

        def integer(key, low, allow_none=False):
            value = get(key)
            if allow_none and value is None:
                return None
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise InputError(f"gradcheck.{key}: expected an integer >= {low}{' or null' if allow_none else ''}, got {value!r}")
            return value

        factor = get("inject_factor")
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not np.isfinite(factor):
            raise InputError(f"gradcheck.inject_factor: expected a finite number, got {factor!r}")
        inject = get("inject")
        if inject is not None:
            names = parameter_names(run_config)
            resolved = param_name(str(inject), names)
            if resolved is None:
                raise InputError(f"gradcheck.inject: unknown parameter {inject!r} (choose from {', '.join(names)}, or dW2-style names)")
            inject = resolved
        if not isinstance(get("vectorised"), bool):
            raise InputError(f"gradcheck.vectorised: must be true or false, got {get('vectorised')!r}")
        return cls(epsilon=positive("epsilon"), threshold=positive("threshold"),
                   train_iterations=integer("train_iterations", 0), inject=inject, inject_factor=float(factor),
                   subset=integer("subset", 1, allow_none=True), vectorised=get("vectorised"))


ConfigStore.instance().store(name="gradcheck_defaults", node={"gradcheck": asdict(Options())})


def parameter_names(run_config: RunConfig) -> list[str]:
    """The trainable arrays of the configured network (batch-norm hidden layers have gamma, beta and no b)."""
    L = len(run_config.layers) + 1
    hidden = ("W", "gamma", "beta") if run_config.batch_norm else ("W", "b")
    return [f"{kind}{l}" for l in range(1, L + 1) for kind in (hidden if l < L else ("W", "b"))]


def gradcheck(run_config: RunConfig, opts: Options, say: Callable[[str], None] = lambda _: None) -> dict[str, GradcheckResult]:
    """Check the configured model at initialisation ("init") and, if
    ``opts.train_iterations`` > 0, after that much training ("trained"), on its
    training split. Dropout is off for the check (its masks make the cost random);
    training still uses it. ``say`` receives notes worth printing."""
    if run_config.keep_prob < 1:
        say(f"note: dropout (keep_prob={run_config.keep_prob}) is switched off for the check: its random masks make finite differences meaningless")
    if opts.inject is not None:
        say(f"note: planted bug: d{opts.inject} is multiplied by {opts.inject_factor:g}")
    if opts.train_iterations:
        n = opts.train_iterations
        try:
            result = recipe.train(run_config.replace(num_iterations=n, cost_every=n))
        except DivergedError as error:
            raise InputError(f"learning_rate: {error}") from None
        dataset, points = result.dataset, {"init": result.initial_params, "trained": result.params}
    else:
        dataset = recipe.load_dataset(run_config)
        points = {"init": recipe.initial_params(run_config, dataset)}
    return {
        point: recipe.gradient_check(
            run_config, params, dataset.train, epsilon=opts.epsilon, threshold=opts.threshold, subset=opts.subset,
            seed=run_config.seed, inject=opts.inject, inject_factor=opts.inject_factor, vectorised=opts.vectorised)
        for point, params in points.items()
    }


# --- tables ------------------------------------------------------------------------------

HEADER = ["param", "shape", "checked", "difference", "verdict", "worst entry (analytic vs numeric)"]


def rows(result: GradcheckResult) -> list[list[str]]:
    """One row per array (param, shape, checked, difference, verdict, worst entry), then the overall row."""
    table = []
    verdicts = result.verdicts
    for name, d in result.per_param.items():
        size = int(np.prod(result.shapes[name], dtype=np.int64))
        top = result.worst[name][0] if result.worst[name] else None
        worst = ""
        if top:
            gap = abs(top["analytic"] - top["numeric"])
            worst = f"{top['index']}: {top['analytic']:.6g} vs {top['numeric']:.6g} (gap {gap:.1e})"
        table.append([name, str(result.shapes[name]), f"{result.checked[name]}/{size}", f"{d:.3e}", verdicts[name], worst])
    checked = sum(result.checked.values())
    total = sum(int(np.prod(s, dtype=np.int64)) for s in result.shapes.values())
    table.append(["overall", "", f"{checked}/{total}", f"{result.difference:.3e}", result.verdict, ""])
    return table


def to_markdown(result: GradcheckResult) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows(result)])


def to_text(result: GradcheckResult) -> str:
    """Aligned table plus the verdict and why, for the terminal."""
    table = [HEADER, *rows(result)]
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADER))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table]
    outcome = {"pass": "PASSED", "rounding": "INCONCLUSIVE (rounding)", "fail": "FAILED"}[result.verdict]
    line = f"{outcome}: {result.why()}"
    line += f" (random subset of coordinates, seed {result.seed})" if result.sampled else ""
    return "\n".join(lines + [line])


@hydra.main(config_path=str(CONF_DIR), config_name="gradcheck", version_base="1.3")
def main(cfg: DictConfig) -> None:
    run_config = RunConfig.parse(cfg)
    opts = Options.parse(cfg, run_config)
    results = gradcheck(run_config, opts, say=print)
    for stage, result in results.items():
        where = "at initialisation" if stage == "init" else f"after {opts.train_iterations} training iterations"
        print(f"\ngradient check {where} (init={run_config.init}, layers={list(run_config.layers)}, "
              f"lambd={run_config.lambd}, epsilon={result.epsilon:g})")
        print(to_text(result))
    if any(result.verdict == "fail" for result in results.values()):
        sys.exit(1)


if __name__ == "__main__":
    run(main)
