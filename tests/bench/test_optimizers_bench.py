"""bench/optimizers_bench.py runs on the optimizer_race stage's own settings (conf/studies.yaml)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_runs_on_the_stages_settings():
    # A tiny budget and grid keep it under a second; the rest of the defaults are the stage's.
    proc = subprocess.run([sys.executable, "bench/optimizers_bench.py", "--budget", "50", "--rates", "0.1,1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "| gd | 1 | 50 |" in proc.stdout
    assert "layers=[10,5] init=he seed=3" in proc.stdout  # the overrides of conf/studies.yaml optimizers
