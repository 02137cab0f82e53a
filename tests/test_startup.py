"""A run costs its training, not its imports: the train CLI loads a heavy library only
when the run uses it (matplotlib to draw, numba for the compiled kernel, MLflow to track,
joblib to sweep; scikit-learn never: circles, moons and digits are read or made without it). Timings are benchmarks (bench/latency_bench.py);
these tests check what is imported, which does not depend on the machine's speed."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("sklearn", "matplotlib", "numba", "mlflow", "scipy", "pandas", "joblib")

# Run python code, then print which of HEAVY it has loaded, as JSON on the last line.
PROBE = """
import atexit, json, sys
atexit.register(lambda: print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy})))))
{code}
"""


def loaded(code: str, tmp_path: Path) -> list[str]:
    proc = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY, code=code)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_train(*overrides: str) -> str:
    argv = ["src.train", *overrides, "hydra.run.dir=hydra"]
    return f"import runpy, sys\nsys.argv = {argv!r}\ntry:\n    runpy.run_module('src.train', run_name='__main__')\nexcept SystemExit as e:\n    assert not e.code, e.code"


def test_importing_the_train_cli_loads_none_of_them(tmp_path):
    assert loaded("import src.train", tmp_path) == []


def test_an_untracked_circles_run_loads_none_of_them(tmp_path):
    # the default run: circles drawn without scikit-learn, the numpy kernel, its figures
    # drawn by a helper process (src/figures.py) that imports matplotlib as the job trains
    assert loaded(run_train("tracking=false", "num_iterations=200", "out_dir=out"), tmp_path) == []
    assert {"cost.png", "boundary.png"} <= {p.name for p in (tmp_path / "out").iterdir()}


def test_an_untracked_compiled_run_adds_numba(tmp_path):
    used = loaded(run_train("tracking=false", "num_iterations=200", "engine=compiled", "out_dir=out"), tmp_path)
    assert "numba" in used and "sklearn" not in used and "mlflow" not in used


def test_an_untracked_digits_run_loads_none_of_them(tmp_path):
    # scikit-learn's digits, read from the file it ships (src/data/datasets.py)
    assert loaded(run_train("tracking=false", "dataset=digits", "num_iterations=20", "out_dir=out"), tmp_path) == []
    assert (tmp_path / "out" / "cost.png").is_file()


def test_leaving_a_cli_starts_no_process(tmp_path):
    """Ending a CLI shuts joblib's reusable loky executor only if a sweep made one:
    asking loky for it would start one (and a resource tracker that outlives the CLI)."""
    code = ("import joblib.externals.loky.reusable_executor as reusable\n"
            "from src import cli\n"
            "cli._release_sweep_workers()\n"
            "assert reusable._executor is None, 'an executor was started'\n")
    assert loaded(code, tmp_path) == ["joblib"]


COUNT_COMPOSITIONS = """
import atexit
from hydra._internal.config_loader_impl import ConfigLoaderImpl
calls = []
load = ConfigLoaderImpl.load_configuration
ConfigLoaderImpl.load_configuration = lambda self, *a, **k: calls.append(k.get("run_mode")) or load(self, *a, **k)
atexit.register(lambda: print("composed", len(calls)))
"""


@pytest.mark.parametrize("overrides, compositions", [((), 1), (("hydra.mode=RUN",), 2)], ids=["defaults", "hydra.mode given"])
def test_a_run_composes_its_config_once(tmp_path, overrides, compositions):
    """Hydra's first composition, only to read hydra.mode, is skipped (src/cli.py) unless
    the command line sets it."""
    code = COUNT_COMPOSITIONS + run_train("tracking=false", "num_iterations=10", "out_dir=out", *overrides)
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == f"composed {compositions}"
    assert (tmp_path / "out" / "metrics.json").is_file()
