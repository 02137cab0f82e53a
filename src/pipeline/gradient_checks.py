"""Stage ``gradient_checks``: the gradient check of every trained variant of one dataset.

    python -m src.pipeline.gradient_checks DATASET MODELS_DIR OUT.json OUT.md

For each variant of the train matrix (``common.variants``), backprop against
two-sided differences on the run's training split (``recipe.gradient_check``), at
its initial parameters (``recipe.initial_params``: drawn as training drew them)
and at its trained ``params.npz``; the cost includes the variant's L2 term and
dropout is off (random masks make finite differences meaningless). Writes the
per-parameter tables as JSON and markdown, each with the one verdict rule's
pass / rounding / fail (src/nn/gradient_check.py).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from omegaconf import OmegaConf

from .. import recipe
from ..cli import arguments, report_errors
from ..config import RunConfig
from ..errors import InputError
from ..gradcheck import to_markdown as table
from ..io import atomic_write_json, atomic_write_text
from ..nn.gradient_check import VERDICTS, GradcheckResult, count
from .common import load_params, variants


def load_run(run_dir: Path) -> tuple[RunConfig, dict[str, np.ndarray]]:
    """A trained run's config and parameters (its config.yaml and params.npz)."""
    config_file, params_file = run_dir / "config.yaml", run_dir / "params.npz"
    if not config_file.is_file() or not params_file.is_file():
        raise InputError(f"{run_dir}: no config.yaml/params.npz (run the stage that trains it first)")
    with np.load(params_file, allow_pickle=False) as f:
        trained = {k: f[k] for k in f.files}
    return RunConfig.parse(OmegaConf.load(config_file)), trained


def check_run(run_dir: Path, max_examples: int | None = None) -> tuple[RunConfig, dict[str, GradcheckResult]]:
    """(the run's config, {"init": result, "trained": result}) for one trained run."""
    config, trained = load_run(run_dir)
    dataset = recipe.load_dataset(config)
    points = {"init": recipe.initial_params(config, dataset), "trained": trained}
    return config, {point: recipe.gradient_check(config, params, dataset.train, max_examples) for point, params in points.items()}


def to_markdown(dataset: str, checks: list[tuple[str, RunConfig, dict[str, GradcheckResult]]]) -> str:
    verdicts = [r.verdict for _, _, results in checks for r in results.values()]
    lines = [
        f"# Gradient checks: {dataset} ({count(verdicts)})",
        "",
        "Backprop against two-sided differences (epsilon 1e-7) on the training split, "
        "with the run's L2 term and without dropout. `difference` = ||g - g_approx|| / (||g|| + ||g_approx||); "
        "pass below 2e-7 (the course's threshold); above it, rounding when no entry differs by more than 10 "
        "finite-difference resolutions (inconclusive, not a bug), else fail.",
    ]
    for name, config, results in checks:
        for point, result in results.items():
            where = "at initialisation" if point == "init" else "at the trained parameters"
            lines += [
                "",
                f"## {name} {where} (lambd={config.lambd}, keep_prob={config.keep_prob} off): "
                f"{VERDICTS[result.verdict]}, {result.why()}",
                "",
                table(result),
            ]
    return "\n".join(lines) + "\n"


def to_json(checks) -> dict:
    return {
        name: {"lambd": config.lambd, "keep_prob": config.keep_prob, "init_scheme": config.init,
               **{p: r.to_dict() for p, r in results.items()}}
        for name, config, results in checks
    }


@report_errors
def main(argv: list[str] | None = None) -> None:
    argv = arguments(argv, 4, "python -m src.pipeline.gradient_checks DATASET MODELS_DIR OUT.json OUT.md")
    dataset, models, out_json, out_md = argv
    checks = []
    for variant in variants(load_params(), dataset):
        config, results = check_run(variant.directory(models))
        checks.append((variant.name, config, results))
        print(f"{dataset}/{variant.name}: " + ", ".join(f"{p} {r.difference:.2e} {r.verdict}" for p, r in results.items()))
    atomic_write_json(out_json, to_json(checks))
    atomic_write_text(out_md, to_markdown(dataset, checks))


if __name__ == "__main__":
    main()
