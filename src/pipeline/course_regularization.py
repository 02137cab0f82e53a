"""Stage ``course_regularization``: the course's Regularization table on its data.

    python -m src.pipeline.course_regularization MAT_PATH OUT_DIR STATUS.json

Trains the course notebook's three variants on MAT_PATH (the shipped
data/course/data.mat, params.yaml ``course.mat_path``) into OUT_DIR/<variant>/ and
writes STATUS.json: ``{"status": "ok", "mat_path": ..., "sha256": ..., "runs":
{variant: metrics}}``, which the report sets beside the published figures.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from .. import artifacts, recipe
from ..cli import arguments, report_errors
from ..io import atomic_write_json
from ..config import run_config

# The course notebook's three runs, as overrides of experiment=course_regularization.
VARIANTS = {"baseline": [], "l2": ["lambd=0.7"], "dropout": ["keep_prob=0.86"]}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(mat_path: str, out_dir: str | Path) -> dict:
    """Train the course variants on ``mat_path`` into ``out_dir``; the status record."""
    runs = {}
    for name, overrides in VARIANTS.items():
        config = run_config(["experiment=course_regularization", f"dataset.path={mat_path}", *overrides])
        result = recipe.train(config)
        artifacts.write(result, config, Path(out_dir) / name)
        runs[name] = {k: round(float(v), 12) for k, v in result.metrics.items()}
    return {"status": "ok", "mat_path": mat_path, "sha256": sha256(Path(mat_path)), "runs": runs}


@report_errors
def main(argv: list[str] | None = None) -> None:
    argv = arguments(argv, 3, "python -m src.pipeline.course_regularization MAT_PATH OUT_DIR STATUS.json")
    mat_path, out_dir, status_path = argv
    status = run(mat_path, out_dir)
    atomic_write_json(status_path, status)
    print("course_regularization: " + ", ".join(f"{k} {v['train_accuracy']:.4f}/{v['test_accuracy']:.4f}" for k, v in status["runs"].items()))


if __name__ == "__main__":
    main()
