"""Stage ``digits_summary``: the digits runs side by side, a confusion matrix, gradient checks.

    python -m src.pipeline.digits_summary MODELS_DIR OUT_DIR

Reads each ``MODELS_DIR/<variant>/`` (the variants: conf/digits_variant/) written by
the ``digits`` stage (``python -m src.train -m experiment=digits ...``, one MLflow run
each), rebuilds its data from the run's own config.yaml (the
recipe: same loader, same training-split normalisation), and writes to OUT_DIR:
- ``summary.json``: per variant the run's metrics.json accuracies (the numbers
  MLflow logged), the best variant by dev accuracy (first on ties), its (10, 10)
  test confusion matrix, and the gradient checks;
- ``confusion.png``: that confusion matrix;
- ``gradcheck.md``: per-parameter tables of every variant's gradient check
  (softmax + cross-entropy, batch norm in training mode, the run's L2, dropout
  off) at its initial and at its trained parameters, on the first
  ``GRADCHECK_EXAMPLES`` training examples. A net trained to a cost near 0 has
  gradient entries near the resolution of finite differences: the one verdict
  rule (src/nn/gradient_check.py) then reads "rounding", not a bug.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .. import plots, recipe
from ..cli import arguments, report_errors
from ..errors import InputError
from ..gradcheck import to_markdown as table
from ..io import atomic_write_json, atomic_write_text
from ..nn.model import confusion_matrix
from . import parallel
from .common import group_options
from .gradient_checks import check_run, load_run

GRADCHECK_EXAMPLES = 100
METRICS = ("train_accuracy", "dev_accuracy", "test_accuracy", "final_cost")


def _checks(run_dir: Path) -> dict[str, tuple[dict, str]]:
    """A run's gradient checks at its initial and its trained parameters
    (``gradient_checks.check_run``): per point, its summary entry and its table."""
    _, results = check_run(run_dir, GRADCHECK_EXAMPLES)
    return {
        point: ({"difference": float(f"{check.difference:.3e}"), "verdict": check.verdict, "why": check.why(),
                 "per_param": {k: float(f"{v:.3e}") for k, v in check.per_param.items()}}, table(check))
        for point, check in results.items()
    }


def summarise(models_dir: Path, names: list[str]) -> tuple[dict, dict[str, str]]:
    summary: dict = {"variants": {}, "gradcheck": {}}
    tables: dict[str, str] = {}
    best, confusion = None, None
    for name in names:
        config, params = load_run(models_dir / name)
        metrics_file = models_dir / name / "metrics.json"
        if not metrics_file.is_file():
            raise InputError(f"digits: missing {metrics_file} (run the digits stage first)")
        metrics = json.loads(metrics_file.read_text())
        dataset = recipe.load_dataset(config)
        summary["variants"][name] = {
            "batch_norm": config.batch_norm, "lambd": config.lambd, "keep_prob": config.keep_prob,
            **{k: float(metrics[k]) for k in METRICS},
        }
        if best is None or metrics["dev_accuracy"] > summary["variants"][best]["dev_accuracy"]:
            best = name
            confusion = confusion_matrix(dataset.test.X, dataset.test.Y, params)
    # The gradient checks, most of this stage's time, on every core.
    for name, checks in zip(names, parallel.starmap(_checks, [(models_dir / name,) for name in names])):
        for point, (entry, check_table) in checks.items():
            summary["gradcheck"].setdefault(name, {})[point] = entry
            tables[f"{name}, {point}"] = check_table
    summary["best"] = best
    summary["confusion_matrix"] = confusion.tolist()
    # what every variant shares (experiment=digits)
    summary["settings"] = {"layers": list(config.layers), "learning_rate": config.learning_rate,
                           "num_iterations": config.num_iterations, "seed": config.seed}
    return summary, tables


@report_errors
def main(argv: list[str] | None = None) -> None:
    argv = arguments(argv, 2, "python -m src.pipeline.digits_summary MODELS_DIR OUT_DIR")
    models_dir, out_dir = Path(argv[0]), Path(argv[1])
    names = group_options("digits_variant")
    if not names:
        raise InputError("conf/digits_variant/: no variants")
    summary, tables = summarise(models_dir, names)
    out_dir.mkdir(parents=True, exist_ok=True)
    best = summary["best"]
    plots.confusion_matrix(
        np.array(summary["confusion_matrix"]), out_dir / "confusion.png",
        f"digits test, {best}: accuracy {summary['variants'][best]['test_accuracy']:.4f}",
    )
    lines = [f"# Gradient checks: digits (trained parameters, first {GRADCHECK_EXAMPLES} training examples)", ""]
    for name, check_table in tables.items():
        lines += [f"## {name}", "", check_table, ""]
    atomic_write_text(out_dir / "gradcheck.md", "\n".join(lines))
    atomic_write_json(out_dir / "summary.json", summary)
    print("digits: " + ", ".join(f"{k} test {v['test_accuracy']:.4f}" for k, v in summary["variants"].items()) + f"; best (dev) {best}")


if __name__ == "__main__":
    main()
