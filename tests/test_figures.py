"""src/figures.py: a single run's figures drawn by a helper process are the same files,
byte for byte, as drawn in the job; the helper's errors are the job's; no helper
outlives its job."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

from src import figures
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[1]

# A job in a fresh process (no matplotlib yet): draws through a helper, prints the helper's
# pid and whether matplotlib stayed out of the job, then does what argv[2] says.
JOB = """
import os, sys
import numpy as np
from src import figures
rng = np.random.default_rng(0)
X, Y = rng.normal(size=(2, 40)), (rng.random((1, 40)) > 0.5).astype(float)
params = {"W1": rng.normal(size=(3, 2)), "b1": np.zeros((3, 1)), "W2": rng.normal(size=(1, 3)), "b2": np.zeros((1, 1))}
with figures.drawing(in_helper=True) as draw:
    print(draw.__self__.pid if hasattr(draw, "__self__") else "none", flush=True)
    if sys.argv[2] == "hang":
        sys.stdin.read()
    if sys.argv[2] == "kill-helper":
        os.kill(draw.__self__.pid, 9)
    draw([0, 100, 199], [0.7, 0.4, 0.3], params, X, Y, sys.argv[1], "t")
print("matplotlib" in sys.modules)
"""


def job(directory: Path, mode: str = "draw", **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", JOB, str(directory), mode], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)}, **popen)


def same_figures_in_process(directory: Path) -> None:
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(2, 40)), (rng.random((1, 40)) > 0.5).astype(float)
    params = {"W1": rng.normal(size=(3, 2)), "b1": np.zeros((3, 1)), "W2": rng.normal(size=(1, 3)), "b2": np.zeros((1, 1))}
    figures.draw([0, 100, 199], [0.7, 0.4, 0.3], params, X, Y, directory, "t")


def test_a_helper_draws_the_same_bytes_and_the_job_never_imports_matplotlib(tmp_path):
    proc = job(tmp_path / "helper")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    helper_pid, job_has_matplotlib = out.split()
    assert helper_pid != "none" and job_has_matplotlib == "False"
    same_figures_in_process(tmp_path / "job")
    for name in ("cost.png", "boundary.png"):
        assert (tmp_path / "helper" / name).read_bytes() == (tmp_path / "job" / name).read_bytes()


def test_the_helpers_error_is_the_jobs(tmp_path):
    (tmp_path / "file").write_text("not a directory")
    proc = job(tmp_path / "file" / "out")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and err.strip().splitlines()[-1].startswith(("NotADirectoryError", "FileNotFoundError"))


def test_a_helper_killed_leaves_the_drawing_to_the_job(tmp_path):
    proc = job(tmp_path / "out", "kill-helper")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert out.split()[-1] == "True"  # the job drew, so imported matplotlib itself
    assert {"cost.png", "boundary.png"} <= {p.name for p in (tmp_path / "out").iterdir()}


def test_no_helper_outlives_its_job(tmp_path):
    proc = job(tmp_path / "out", "hang", stdin=subprocess.PIPE)
    helper = int(proc.stdout.readline())
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    wait_for(lambda: not Path(f"/proc/{helper}").exists() or "zombie" in Path(f"/proc/{helper}/status").read_text(),
             "the helper gone", timeout=30)


def test_where_matplotlib_is_imported_or_in_a_sweep_the_job_draws():
    import matplotlib  # noqa: F401 (as in a sweep's worker forked from its launcher)

    with figures.drawing(in_helper=True) as draw:
        assert draw is figures.draw
    with figures.drawing(in_helper=False) as draw:
        assert draw is figures.draw
