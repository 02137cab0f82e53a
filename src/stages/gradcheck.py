"""Stage ``gradcheck``: the gradient check of every trained variant of one dataset.

    python -m src.stages.gradcheck DATASET TRAIN.npz MODELS_DIR OUT.json OUT.md

For each variant of the train matrix (``variants.py``), ``src.gradcheck.check_model``
compares backprop with two-sided differences on the training split, at the
initial parameters (re-drawn from the run's init, rng and seed, exactly as
training drew them) and at the trained ``params.npz``; the cost includes the
variant's L2 term and dropout is off (random masks make finite differences
meaningless). Writes the per-parameter tables as JSON and markdown.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from omegaconf import OmegaConf
from threadpoolctl import threadpool_limits

from .. import data
from ..cli import arguments, report_errors
from ..errors import InputError
from ..gradcheck import GradcheckResult, check_model
from ..io import atomic_write_json, atomic_write_text
from ..randomness import make_randomness
from ..train import initial_params
from .variants import load_params, variants

POINTS = ("init", "trained")


def check_run(run_dir: Path, X: np.ndarray, Y: np.ndarray) -> tuple[dict, dict[str, GradcheckResult]]:
    """(the run's config, {"init": result, "trained": result}) for one trained run."""
    config_file, params_file = run_dir / "config.yaml", run_dir / "params.npz"
    if not config_file.is_file() or not params_file.is_file():
        raise InputError(f"gradcheck: {run_dir} has no config.yaml/params.npz (run the train stage first)")
    cfg = OmegaConf.load(config_file)
    with np.load(params_file, allow_pickle=False) as f:
        trained = {k: f[k] for k in f.files}
    # The parameters the run started from, built as training built them.
    start = initial_params(cfg, data.Dataset("train", {"train": data.Split(X, Y)}), make_randomness(cfg.rng, cfg.seed))
    results = {
        "init": check_model(start, X, Y, cfg.lambd),
        "trained": check_model(trained, X, Y, cfg.lambd),
    }
    return OmegaConf.to_container(cfg, resolve=True), results


def to_markdown(dataset: str, checks: list[tuple[str, dict, dict[str, GradcheckResult]]]) -> str:
    lines = [
        f"# Gradient checks: {dataset}",
        "",
        "Backprop against two-sided differences (epsilon 1e-7) on the training split, "
        "with the run's L2 term and without dropout. `difference` = ||g - g_approx|| / (||g|| + ||g_approx||); "
        "pass below 2e-7 (the course's threshold), \"look again\" below 1e-3, \"bug\" above.",
    ]
    for name, cfg, results in checks:
        for point in POINTS:
            result = results[point]
            where = "at initialisation" if point == "init" else "at the trained parameters"
            lines += [
                "",
                f"## {name} {where} (lambd={cfg['lambd']}, keep_prob={cfg['keep_prob']} off): "
                f"{'passed' if result.passed else 'FAILED'}, difference {result.difference:.3e}",
                "",
                result.to_markdown(),
            ]
    return "\n".join(lines) + "\n"


def to_json(checks) -> dict:
    return {
        name: {"lambd": cfg["lambd"], "keep_prob": cfg["keep_prob"], "init_scheme": cfg["init"], **{p: r.to_dict() for p, r in results.items()}}
        for name, cfg, results in checks
    }


@report_errors
def main(argv: list[str] | None = None) -> None:
    argv = arguments(argv, 5, "python -m src.stages.gradcheck DATASET TRAIN.npz MODELS_DIR OUT.json OUT.md")
    dataset, npz, models, out_json, out_md = argv
    train = data.load_npz(npz).train
    checks = []
    # One BLAS thread: tiny matrices, and a busy machine makes OpenBLAS threads a loss.
    with threadpool_limits(1):
        for variant in variants(load_params(), dataset):
            cfg, results = check_run(variant.directory(models), train.X, train.Y)
            checks.append((variant.name, cfg, results))
            print(f"{dataset}/{variant.name}: " + ", ".join(f"{p} {r.difference:.2e} {r.verdict}" for p, r in results.items()))
    atomic_write_json(out_json, to_json(checks))
    atomic_write_text(out_md, to_markdown(dataset, checks))


if __name__ == "__main__":
    main()
