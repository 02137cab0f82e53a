"""Stage ``course_regularization``: the course's Regularization table, when its data is there.

    python -m src.stages.course MAT_PATH OUT_DIR STATUS.json

The course's 2D data.mat is not ours to ship, and a DVC stage cannot depend on
a file that may be missing; so this stage depends on the path (params.yaml
``course.mat_path``), looks for the file itself and always writes STATUS.json:
``{"status": "ok", "sha256": ..., "runs": {variant: metrics}}`` after training
the three course variants into OUT_DIR/<variant>/, or ``{"status": "missing"}``
with the reason. The report shows the table or says plainly how to add the file.
After adding or replacing the file at an unchanged path, force the stage:
``dvc repro -f -s course_regularization && dvc repro``.
"""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from hydra import compose, initialize_config_dir

from .. import artifacts
from ..cli import arguments, report_errors
from ..io import atomic_write_json, atomic_write_text
from ..train import train

CONF_DIR = Path(__file__).resolve().parents[2] / "conf"
# The course notebook's three runs, as overrides of experiment=course_regularization.
VARIANTS = {"baseline": [], "l2": ["lambd=0.7"], "dropout": ["keep_prob=0.86"]}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def course_config(mat_path: str, overrides: list[str]):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose("config", overrides=["experiment=course_regularization", f"dataset.path={mat_path}", *overrides])


def run(mat_path: str, out_dir: str | Path) -> dict:
    """Train the course variants on ``mat_path`` into ``out_dir``; the status record."""
    file = Path(mat_path)
    if not file.is_file():
        return {"status": "missing", "mat_path": mat_path, "reason": f"no file at {mat_path} (relative to the project root)"}
    runs = {}
    for name, overrides in VARIANTS.items():
        cfg = course_config(mat_path, overrides)
        result = train(cfg)
        artifacts.write(result, cfg, Path(out_dir) / name)
        runs[name] = {k: round(float(v), 12) for k, v in result.metrics.items()}
    return {"status": "ok", "mat_path": mat_path, "sha256": sha256(file), "runs": runs}


@report_errors
def main(argv: list[str] | None = None) -> None:
    argv = arguments(argv, 3, "python -m src.stages.course MAT_PATH OUT_DIR STATUS.json")
    mat_path, out_dir, status_path = argv
    out = Path(out_dir)
    if out.exists():
        shutil.rmtree(out)  # no runs of an earlier data file left beside a "missing" status
    out.mkdir(parents=True)
    status = run(mat_path, out)
    if status["status"] == "missing":
        atomic_write_text(out / "README.md", f"Not run: {status['reason']}. See reports/report.md.\n")
    atomic_write_json(status_path, status)
    if status["status"] == "ok":
        print("course_regularization: " + ", ".join(f"{k} {v['train_accuracy']:.4f}/{v['test_accuracy']:.4f}" for k, v in status["runs"].items()))
    else:
        print(f"course_regularization: skipped, {status['reason']}")


if __name__ == "__main__":
    main()
