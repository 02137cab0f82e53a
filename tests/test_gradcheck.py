"""The gradient-check CLI (src/gradcheck.py): its config and options, its tables,
the library API it re-exports, and the command itself."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

from src.config import RunConfig, compose
from src.errors import InputError
from src.gradcheck import Options, check_gradients, gradcheck, to_markdown, to_text
from src.nn.gradient_check import check_gradients as pure_check_gradients
from src.nn.network_check import check_model
from tests.nn.test_network_check import course_backward_propagation_n, course_nd_case

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def one_blas_thread():
    with threadpool_limits(1):
        yield


def test_the_contracts_import_is_the_pure_checker():
    assert check_gradients is pure_check_gradients
    import inspect

    params = list(inspect.signature(check_gradients).parameters)
    assert params[:4] == ["cost_fn", "params", "grads", "epsilon"]
    assert inspect.signature(check_gradients).parameters["epsilon"].default == 1e-7


def test_tables_in_markdown_and_text():
    X, Y, params = course_nd_case()
    result = check_model(params, X, Y, grads=course_backward_propagation_n(X, Y, params))
    table = to_markdown(result).splitlines()
    assert table[0].startswith("| param | shape |") and len(table) == 2 + 6 + 1
    assert table[-1].startswith("| overall |") and "| fail |" in table[-1]
    text = to_text(result)
    assert "FAILED: difference 2.851e-01" in text and "a gradient is wrong: b1, W2" in text
    subset = check_model(params, X, Y, subset=2, seed=7)
    assert "seed 7" in to_text(subset) and to_text(subset).splitlines()[-1].startswith("PASSED")


def compose_gradcheck(*overrides):
    return compose(list(overrides), "gradcheck")


def run_gradcheck(*overrides, say=lambda _: None):
    cfg = compose_gradcheck(*overrides)
    run = RunConfig.parse(cfg)
    return gradcheck(run, Options.parse(cfg, run), say=say)


def test_cli_config_composes_with_train_overrides():
    cfg = compose_gradcheck("experiment=course_init", "init=random", "gradcheck.subset=5")
    assert cfg.init == "random" and list(cfg.layers) == [10, 5] and cfg.rng == "course"
    assert cfg.gradcheck.subset == 5 and cfg.gradcheck.epsilon == 1e-7 and cfg.gradcheck.threshold == 2e-7


def test_gradcheck_switches_dropout_off_and_checks_after_training():
    notes = []
    results = run_gradcheck("keep_prob=0.8", "lambd=0.1", "gradcheck.train_iterations=50", say=notes.append)
    assert set(results) == {"init", "trained"} and all(r.passed for r in results.values())
    assert any("dropout" in note and "switched off" in note for note in notes)


@pytest.mark.parametrize(
    "override, key",
    [
        ("gradcheck.epsilon=0", "gradcheck.epsilon"),
        ("gradcheck.subset=0", "gradcheck.subset"),
        ("gradcheck.train_iterations=-1", "gradcheck.train_iterations"),
        ("gradcheck.inject=W9", "gradcheck.inject"),
        ("gradcheck.inject_factor=abc", "gradcheck.inject_factor"),
    ],
)
def test_bad_gradcheck_options_name_the_key(override, key):
    cfg = compose_gradcheck(override)
    with pytest.raises(InputError, match=key):
        Options.parse(cfg, RunConfig.parse(cfg))


def run_cli(tmp_path, *overrides):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "src.gradcheck", f"hydra.run.dir={tmp_path / 'run'}", *overrides],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )


@pytest.mark.slow
def test_cli_passing_run_exits_0(tmp_path):
    done = run_cli(tmp_path, "init=xavier", "lambd=0.7", "gradcheck.train_iterations=100")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("PASSED") == 2 and "W3" in done.stdout


@pytest.mark.slow
def test_cli_planted_bug_exits_1_and_names_W2(tmp_path):
    done = run_cli(tmp_path, "gradcheck.inject=dW2")
    assert done.returncode == 1, done.stderr
    failed = [line for line in done.stdout.splitlines() if line.startswith("FAILED")]
    assert failed and "a gradient is wrong: W2" in failed[0]
    assert [line.split()[0] for line in done.stdout.splitlines() if " fail " in f" {line} "] == ["W2", "overall"]


@pytest.mark.slow
def test_cli_bad_input_is_one_line_and_exit_1(tmp_path):
    done = run_cli(tmp_path, "init=foo")
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1 and "init" in done.stderr
    assert "Traceback" not in done.stderr
