"""Stage ``digits_summary``: the digits runs side by side, a confusion matrix, gradient checks.

    python -m src.stages.digits MODELS_DIR OUT_DIR

Reads each ``MODELS_DIR/<variant>/`` (the variants: params.yaml ``digits.variants``,
in order) written by the ``digits`` stage
(``python -m src.train dataset=digits ...``, one MLflow run each), rebuilds the
test split from the run's own config.yaml (same loader, same training-split
normalisation), and writes to OUT_DIR:
- ``summary.json``: per variant the run's metrics.json accuracies (the numbers
  MLflow logged), the best variant by dev accuracy (first on ties), its (10, 10)
  test confusion matrix, and the gradient checks;
- ``confusion.png``: that confusion matrix;
- ``gradcheck.md``: per-parameter tables of ``check_model`` (softmax + cross-entropy,
  batch norm in training mode, the run's L2, dropout off) of every variant at its
  initial parameters (re-drawn as training drew them) and at the trained ones, on
  the first ``GRADCHECK_EXAMPLES`` training examples. A net trained to a cost near 0
  has gradient entries of ~1e-5, while each per-example loss is a difference of
  logits of size |z| ~ 10, rounded to spacing(|z|) ~ 1e-15: the numeric gradient
  then carries noise ~ spacing(max |ZL|) / (2 epsilon). A failed check whose
  largest entry gap is within 10 of those is recorded as rounding, not as a bug.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf
from threadpoolctl import threadpool_limits

from .. import plots
from ..cli import arguments, report_errors
from ..errors import InputError
from ..gradcheck import check_model
from ..io import atomic_write_json, atomic_write_text
from ..nn.model import confusion_matrix, forward
from .variants import load_params

GRADCHECK_EXAMPLES = 100
METRICS = ("train_accuracy", "dev_accuracy", "test_accuracy", "final_cost")


def load_run(run_dir: Path):
    files = [run_dir / name for name in ("config.yaml", "params.npz", "metrics.json")]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise InputError(f"digits: missing {', '.join(missing)} (run the digits stage first)")
    cfg = OmegaConf.load(files[0])
    with np.load(files[1], allow_pickle=False) as f:
        params = {k: f[k] for k in f.files}
    metrics = json.loads(files[2].read_text())
    return cfg, params, metrics


def summarise(models_dir: Path, names: list[str]) -> tuple[dict, dict[str, str]]:
    from ..randomness import make_randomness
    from ..train import initial_params, load_dataset  # local: src.train pulls in hydra's app machinery

    summary: dict = {"variants": {}, "gradcheck": {}}
    tables: dict[str, str] = {}
    best, confusion = None, None
    for name in names:
        cfg, params, metrics = load_run(models_dir / name)
        dataset = load_dataset(cfg)
        summary["variants"][name] = {
            "batch_norm": bool(cfg.get("batch_norm", False)), "lambd": float(cfg.lambd), "keep_prob": float(cfg.keep_prob),
            **{k: float(metrics[k]) for k in METRICS},
        }
        if best is None or metrics["dev_accuracy"] > summary["variants"][best]["dev_accuracy"]:
            best = name
            confusion = confusion_matrix(dataset.test.X, dataset.test.Y, params)
        X, Y = dataset.train.X[:, :GRADCHECK_EXAMPLES], dataset.train.Y[:, :GRADCHECK_EXAMPLES]
        points = {"init": initial_params(cfg, dataset, make_randomness(cfg.rng, cfg.seed)), "trained": params}
        summary["gradcheck"][name] = {}
        for point, at in points.items():
            with threadpool_limits(1):
                check = check_model(at, X, Y, float(cfg.lambd))
            gap = max(abs(e["analytic"] - e["numeric"]) for entries in check.worst.values() for e in entries)
            ZL = forward(X, at, training=True)[0]
            noise = float(np.spacing(np.abs(ZL).max())) / (2 * check.epsilon)
            summary["gradcheck"][name][point] = {
                "difference": float(f"{check.difference:.3e}"),
                "passed": check.passed,
                "rounding": bool(not check.passed and gap <= 10 * noise),
                "worst_gap": float(f"{gap:.2e}"),
                "logit_rounding": float(f"{noise:.2e}"),
                "per_param": {k: float(f"{v:.3e}") for k, v in check.per_param.items()},
            }
            tables[f"{name}, {point}"] = check.to_markdown()
    summary["best"] = best
    summary["confusion_matrix"] = confusion.tolist()
    return summary, tables


@report_errors
def main(argv: list[str] | None = None) -> None:
    argv = arguments(argv, 2, "python -m src.stages.digits MODELS_DIR OUT_DIR")
    models_dir, out_dir = Path(argv[0]), Path(argv[1])
    names = list((load_params().get("digits") or {}).get("variants") or {})
    if not names:
        raise InputError("params.yaml: digits.variants is empty or missing")
    summary, tables = summarise(models_dir, names)
    out_dir.mkdir(parents=True, exist_ok=True)
    best = summary["best"]
    plots.confusion_matrix(
        np.array(summary["confusion_matrix"]), out_dir / "confusion.png",
        f"digits test, {best}: accuracy {summary['variants'][best]['test_accuracy']:.4f}",
    )
    lines = [f"# Gradient checks: digits (trained parameters, first {GRADCHECK_EXAMPLES} training examples)", ""]
    for name, table in tables.items():
        lines += [f"## {name}", "", table, ""]
    atomic_write_text(out_dir / "gradcheck.md", "\n".join(lines))
    atomic_write_json(out_dir / "summary.json", summary)
    print("digits: " + ", ".join(f"{k} test {v['test_accuracy']:.4f}" for k, v in summary["variants"].items()) + f"; best (dev) {best}")


if __name__ == "__main__":
    main()
