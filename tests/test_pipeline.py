"""End to end: `dvc repro` on a copy of the project, with a reduced matrix.

The copy holds what git would commit (tracked and untracked-but-not-ignored
files), in a fresh git repository, so nothing of this checkout's data/, models/,
reports/ or MLflow store leaks in. The matrix is cut to football x he (4 runs)
and the studies to small grids; the course tables run in full, and every run is
tracked in a store of the copy's own.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def project_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True, check=True)
    return [f for f in out.stdout.decode().split("\0") if f and (ROOT / f).is_file()]


def run(args, cwd, env, timeout=600):
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, args))} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def copy_project(root: Path) -> dict:
    """The project's files in ``root``, with the reduced matrix and studies, as a fresh git
    repository with a tracking store of its own beside it; the environment to run it in."""
    for name in project_files():
        if name == "dvc.lock":  # start from scratch, as after a clone without outputs
            continue
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["datasets"] = ["football"]
    params["train"].update(inits="he", tracking=True)
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    # The studies on small grids: the same stages and report sections, seconds instead of a minute.
    studies = yaml.safe_load((root / "conf" / "studies.yaml").read_text())
    studies["optimizers"].update(budget=300, rates=[0.01, 0.3])
    studies["early_stopping"].update(patience=100, seeds=[1])
    studies["gradient_norms"]["depth"] = 4
    studies["batchnorm"].update(rates=[4], seeds=[0], overrides=[
        *(o for o in studies["batchnorm"]["overrides"] if not o.startswith("num_iterations=")), "num_iterations=50"])
    (root / "conf" / "studies.yaml").write_text(yaml.safe_dump(studies, sort_keys=False))
    multi_seed = root / "conf" / "experiment" / "multi_seed.yaml"
    multi_seed.write_text(multi_seed.read_text().replace("seed: 1,2,3,4,5", "seed: 1,2"))
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",  # dvc's `python` is ours
        "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "test@example.com",
        "MLFLOW_TRACKING_URI": f"sqlite:///{root.parent / 'mlflow.db'}",
    }
    run(["git", "init", "-q"], root, env)
    run(["git", "add", "-A"], root, env)
    run(["git", "commit", "-q", "-m", "copy"], root, env)
    return env


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    if shutil.which("git") is None:
        pytest.skip("git is needed to copy the project")
    root = tmp_path_factory.mktemp("pipeline") / "project"
    env = copy_project(root)
    dvc = [sys.executable, "-m", "dvc"]
    first = run([*dvc, "repro"], root, env)
    return root, env, dvc, first


def test_repro_writes_the_report_with_the_course_table(project):
    root, *_ = project
    text = (root / "reports" / "report.md").read_text()
    init_rows = [line for line in text.splitlines() if line.startswith("| init=")]
    assert len(init_rows) == 3 and all(re.search(r"\| yes +\|$", line) for line in init_rows)
    for init, (train, test) in {"zeros": (0.5, 0.5), "random": (0.83, 0.86), "he": (0.9933, 0.96)}.items():
        metrics = json.loads((root / "models" / "course" / f"init-{init}" / "metrics.json").read_text())
        assert (round(metrics["train_accuracy"], 4), round(metrics["test_accuracy"], 4)) == (train, test)
    # the course's own data ships with the project: both week-1 tables, and week 2's
    assert "Data: `data/course/data.mat`" in text
    section = text.split("### Regularization", 1)[1].split("\n### ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith(("| baseline", "| lambd=0.7", "| keep_prob=0.86"))]
    assert len(rows) == 3 and all(re.search(r"\| yes +\|$", line) for line in rows)
    section = text.split("### Optimization (week 2", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `optimizer=")]
    assert len(rows) == 7 and all(re.search(r"\| yes +\|$", line) for line in rows), section
    assert "nan" not in text
    assert "### football" in text and "high variance (overfits)" in text
    assert (root / "reports" / "gradcheck" / "football.md").is_file()
    for heading in ("## (f) Optimizers", "## (g) Early stopping", "## (h) Multi-seed", "## (i) Vanishing", "## (j) Batch norm"):
        assert heading in text
    assert "Over 2 seeds: train **" in text
    for figure in ("optimizers.png", "gradient_norms.png", "batchnorm.png"):
        assert (root / "reports" / "studies" / figure).stat().st_size > 1000


def test_second_repro_is_a_noop_and_status_is_clean(project):
    root, env, dvc, _ = project
    start = time.perf_counter()
    again = run([*dvc, "repro"], root, env)
    seconds = time.perf_counter() - start
    assert "Running stage" not in again.stdout
    assert seconds < 10  # < 3 s on an idle machine; generous for a loaded CI runner
    status = run([*dvc, "status", "--json"], root, env)
    assert json.loads(status.stdout) == {}


def test_outputs_are_ignored_by_git(project):
    root, env, *_ = project
    porcelain = run(["git", "status", "--porcelain", "--untracked-files=all"], root, env).stdout.splitlines()
    changed = {line[3:] for line in porcelain}
    # dvc.lock, the .gitignore files DVC writes and the headline metrics (in git, for
    # `dvc metrics diff`); never the data, models or reports themselves
    assert "dvc.lock" in changed and "reports/summary.json" in changed
    written = {p for p in changed if p.startswith(("data/", "models/", "reports/")) and not p.endswith(".gitignore")}
    assert written == {"reports/summary.json"}, changed


def test_headline_metrics_fit_a_screen(project):
    """`dvc metrics show` and `dvc exp show` list the headline numbers, not every run's."""
    root, env, dvc, _ = project
    summary = json.loads((root / "reports" / "summary.json").read_text())
    assert summary["course_figures_matched"] == {"init": 3, "regularization": 3, "optimization": 7}
    assert summary["gradient_checks"]["failed"] == 0 and 0.9 < summary["digits_test_accuracy"] <= 1
    shown = run([*dvc, "metrics", "show", "--json"], root, env).stdout
    [workspace] = json.loads(shown).values()
    assert list(workspace["data"]) == ["reports/summary.json"]
    header = run([*dvc, "exp", "show", "--no-pager", "--md"], root, env).stdout.splitlines()[0]
    assert len(header.strip("|").split("|")) <= 40, header
    plots = run([*dvc, "plots", "show", "-o", str(root.parent / "plots")], root, env)
    assert (root.parent / "plots" / "index.html").read_text().count("football cost curves") >= 1, plots.stdout


# One stage of each kind, rerun from scratch: every output file (npz, json, csv,
# png, md) must hash as before, or dvc.lock changes. (`dvc repro --force` of the
# whole pipeline, twice, is the same check at twice the cost.)
FORCED = ["generate@football", "normalize@football", "train@football", "course_init", "gradient_checks@football", "report"]


def test_forced_repro_reproduces_every_output_byte_for_byte(project):
    root, env, dvc, _ = project
    before = (root / "dvc.lock").read_text()
    forced = run([*dvc, "repro", "--force", "--single-item", *FORCED], root, env)
    assert forced.stdout.count("Running stage") == len(FORCED)
    assert (root / "dvc.lock").read_text() == before
    status = run([*dvc, "status", "--json"], root, env)
    assert json.loads(status.stdout) == {}


def test_every_runs_mlflow_diagnosis_is_the_reports(project):
    """One diagnosis: each run makes it once; its MLflow tag, its tags.json and the
    report's matrix row say the same, with the dataset's own Bayes error (football 0.1)."""
    from mlflow.tracking import MlflowClient

    from src.pipeline.report import WORDING

    root, env, *_ = project
    client = MlflowClient(env["MLFLOW_TRACKING_URI"])
    experiments = [e.experiment_id for e in client.search_experiments()]
    by_dir = {r.data.params.get("out_dir"): r for r in client.search_runs(experiments, max_results=1000)}
    run_dirs = sorted(p.parent for p in (root / "models").rglob("tags.json"))
    assert len(run_dirs) >= 4 + 3 + 7 + 4 + 2  # matrix, course init, week 2, digits, multi-seed
    for directory in run_dirs:
        tags = json.loads((directory / "tags.json").read_text())
        run = by_dir[str(directory.relative_to(root))]
        assert run.data.tags["diagnosis"] == tags["diagnosis"], directory
        assert run.data.tags["bayes_error"] == tags["bayes_error"], directory
    report = (root / "reports" / "report.md").read_text()
    football = report.split("### football", 1)[1].split("\n### ", 1)[0]
    for variant in ("baseline", "L2", "dropout", "L2+dropout"):
        name = {"baseline": "he-l2_0.0-kp_1.0", "L2": "he-l2_0.7-kp_1.0", "dropout": "he-l2_0.0-kp_0.86", "L2+dropout": "he-l2_0.7-kp_0.86"}[variant]
        tags = json.loads((root / "models" / "football" / name / "tags.json").read_text())
        assert tags["bayes_error"] == "0.1"
        rows = [[cell.strip() for cell in line.split("|")] for line in football.splitlines() if line.startswith("| ")]
        row = next(cells for cells in rows if cells[1:3] == ["he", variant])
        assert row[-2] == WORDING[tags["diagnosis"]], row


def stage_process(root: Path, module: str) -> int | None:
    """The pid of the stage's own process running ``python -m MODULE`` in ``root`` (not one
    of its workers: those are children of a process running the same module)."""
    commands = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                cwd = os.readlink(entry / "cwd")
            except OSError:  # gone meanwhile
                continue
            commands[int(entry.name)] = (module.encode() in argv and cwd == str(root), parent)
    return next((pid for pid, (ours, parent) in commands.items() if ours and not commands.get(parent, (False,))[0]), None)


def test_a_stage_killed_mid_run_reruns_to_the_same_outputs(project, tmp_path):
    """kill -9 of a stage's process (train@football's sweep launcher, mid-matrix), then
    `dvc repro` again: it finishes, every output hashes as in the uninterrupted run, and
    the killed runs end KILLED in MLflow (none RUNNING)."""
    from mlflow.tracking import MlflowClient

    reference, _, dvc, _ = project
    root = tmp_path / "project"
    env = copy_project(root)
    run([*dvc, "repro", "normalize@football"], root, env)
    repro = subprocess.Popen([*dvc, "repro", "train@football"], cwd=root, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        wait_for(lambda: list((root / "models" / "football").glob("*/metrics.json")),  # one run done, the others not
                 "a first run of the stage done", timeout=300, process=repro, every=0.05)
        launcher = stage_process(root, "src.train")
        assert launcher is not None
        os.kill(launcher, signal.SIGKILL)
        output, _ = repro.communicate(timeout=120)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(repro.pid, signal.SIGKILL)
    assert repro.returncode != 0 and "failed to reproduce 'train@football'" in output, output[-3000:]
    assert len(list((root / "models" / "football").glob("*/metrics.json"))) < 4  # it was cut short
    # its workers die with it (src/workers.py)
    wait_for(lambda: stage_process(root, "src.train") is None, "the killed stage's workers gone", timeout=10, every=0.1)

    again = run([*dvc, "repro", "train@football"], root, env)
    assert "Running stage 'train@football'" in again.stdout

    def outs(project_root: Path) -> dict:
        stages = yaml.safe_load((project_root / "dvc.lock").read_text())["stages"]
        return {name: [(o["path"], o["md5"]) for o in stages[name]["outs"]]
                for name in ("generate@football", "normalize@football", "train@football")}

    assert outs(root) == outs(reference)
    client = MlflowClient(env["MLFLOW_TRACKING_URI"])
    statuses = [r.info.status for r in client.search_runs([e.experiment_id for e in client.search_experiments()])]
    assert "RUNNING" not in statuses and "KILLED" in statuses, statuses
