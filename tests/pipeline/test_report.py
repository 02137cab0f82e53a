"""The report's pure parts: diagnosis, course tables, matrix tables, rendering."""
from __future__ import annotations

import re

import pytest

from src.pipeline import report
from src.pipeline.tables import md
from src.pipeline.common import Variant, variants

PARAMS = {
    "datasets": ["football"],
    "train": {"inits": "he", "lambd": 0.7, "keep_prob": 0.86, "layers": "[20,3]", "learning_rate": 0.1, "num_iterations": 10, "seed": 3, "rng": "modern"},
}


def test_the_report_words_every_diagnosis_the_rule_can_make():
    from src.diagnosis import NEXT_STEPS

    assert set(report.WORDING) == set(NEXT_STEPS)


def test_course_tables_compare_to_four_decimals():
    ok = {"zeros": (0.5, 0.5), "random": (0.83, 0.86), "he": (0.993333333333, 0.96)}
    table = report.course_init_table({k: {"train_accuracy": a, "test_accuracy": b} for k, (a, b) in ok.items()})
    assert list(table["match to 4 decimals"]) == ["yes", "yes", "yes"]
    off = {**ok, "he": (0.99, 0.96)}
    table = report.course_init_table({k: {"train_accuracy": a, "test_accuracy": b} for k, (a, b) in off.items()})
    assert list(table["match to 4 decimals"]) == ["yes", "yes", "NO"]


def run_metrics(train, dev, test=0.8, cost=0.1, bayes_error=0.1):
    """A run's metrics.json with the diagnosis its tags.json holds (made by src.diagnosis)."""
    from src.diagnosis import diagnose_accuracy

    return {"train_accuracy": train, "dev_accuracy": dev, "test_accuracy": test, "final_cost": cost,
            "diagnosis": diagnose_accuracy(train, dev, bayes_error)["diagnosis"], "bayes_error": bayes_error}


def football_runs():
    vs = variants(PARAMS)
    numbers = {"baseline": (0.96, 0.745), "L2": (0.90, 0.81), "dropout": (0.87, 0.87), "L2+dropout": (0.87, 0.85)}
    return [(v, run_metrics(*numbers[v.regularisation])) for v in vs]


def test_variants_mirror_the_dvc_matrix():
    names = [v.name for v in variants(PARAMS)]
    assert names == ["he-l2_0.0-kp_1.0", "he-l2_0.0-kp_0.86", "he-l2_0.7-kp_1.0", "he-l2_0.7-kp_0.86"]
    assert [v.regularisation for v in variants(PARAMS)] == ["baseline", "dropout", "L2", "L2+dropout"]
    assert Variant("moons", "he", 0.0, 1.0).directory().as_posix() == "models/moons/he-l2_0.0-kp_1.0"


def test_matrix_table_diagnoses_each_row():
    table = report.matrix_table(football_runs())
    rows = {r["regularisation"]: r for r in table.to_dict("records")}
    assert rows["baseline"]["diagnosis"] == "high variance (overfits)"
    assert rows["baseline"]["gap"] == pytest.approx(0.215)
    assert rows["dropout"]["diagnosis"] == "low bias, low variance"
    assert rows["L2"]["diagnosis"] == "high variance (overfits)"  # gap 0.09


def test_matrix_table_falls_back_to_test_without_a_dev_split():
    v = Variant("circles", "he", 0.0, 1.0)
    metrics = {"train_accuracy": 1.0, "test_accuracy": 0.94, "final_cost": 0.01, "diagnosis": "high variance", "bayes_error": 0.0}
    table = report.matrix_table([(v, metrics)])
    row = table.iloc[0]
    assert row["dev"] is None and row["gap"] == pytest.approx(0.06)
    assert row["diagnosis"] == "high variance (overfits)"
    # in the report a missing dev accuracy reads "–", not "nan"
    line = md(table).splitlines()[2]
    assert "| –" in line and "nan" not in line


def test_gap_table_and_regularisation_note():
    matrix = report.matrix_table(football_runs())
    gaps = report.gap_table(matrix)
    assert list(gaps.columns) == ["init", "baseline", "L2", "dropout", "L2+dropout"]
    note = "\n".join(report._regularisation_note("football", matrix, 0.05))
    assert "baseline overfits (gap 0.215)" in note and "all narrow it" in note


def gradcheck_point(difference, verdict="pass", why="difference below the threshold"):
    return {"difference": difference, "passed": verdict == "pass", "verdict": verdict, "why": why,
            "flagged": ["W1"] if verdict == "fail" else []}


def test_gradcheck_counts_and_notes_read_the_stages_verdicts():
    checks = {
        "he": {"lambd": 0.0, "init": gradcheck_point(1e-8), "trained": gradcheck_point(1e-8)},
        "tiny": {"lambd": 0.0, "init": gradcheck_point(1e-8), "trained": gradcheck_point(1e-3, "rounding", "inconclusive: ...")},
        "real": {"lambd": 0.0, "init": gradcheck_point(0.3, "fail", "a gradient is wrong: W1"), "trained": gradcheck_point(1e-8)},
    }
    notes = report.gradcheck_notes(checks)
    assert notes == ["- tiny trained: rounding: inconclusive: ....", "- real at init: fail: a gradient is wrong: W1."]
    table = report.gradcheck_table(checks)
    assert list(table["verdict (trained)"]) == ["pass", "rounding", "pass"]
    assert list(table["failed arrays"]) == ["-", "-", "W1"]
    text = render_with(checks)
    assert "### football (4 passed, 1 inconclusive (rounding), 1 failed; [per-parameter tables]" in text


PUBLISHED_WEEK2 = {  # the optimization notebook: train accuracy, cost after epoch 4000
    "gd": (0.7167, 0.573367), "momentum": (0.7167, 0.573444), "adam": (0.9433, 0.136066),
    "gd_inverse_time": (0.6533, 0.655486), "gd_staircase": (0.9433, 0.117512),
    "momentum_staircase": (0.9533, 0.123218), "adam_staircase": (0.9400, 0.128361),
}


def week2(**changed):
    runs = {k: {"train_accuracy": a, "cost": c, "run": f"optimizer={k}"} for k, (a, c) in PUBLISHED_WEEK2.items()}
    for name, (accuracy, cost) in changed.items():
        runs[name] = {**runs[name], "train_accuracy": accuracy, "cost": cost}
    return runs


def inputs(checks=None, digits=None):
    if checks is None:
        checks = {v.name: {"lambd": v.lambd, "init": gradcheck_point(1e-8), "trained": gradcheck_point(1e-8)} for v, _ in football_runs()}
    return report.Inputs(
        course_init={k: {"train_accuracy": a, "test_accuracy": b} for k, (a, b) in report.PUBLISHED_INIT.items()},
        course_regularization={k: {"train_accuracy": a, "test_accuracy": b} for k, (a, b) in report.PUBLISHED_REGULARIZATION.items()},
        course_data="data/course/data.mat",
        course_optimization=week2(),
        runs={"football": football_runs()},
        gradchecks={"football": checks},
        digits=digits,
    )


def render():
    return report.render(PARAMS, inputs())


def render_with(checks):
    return report.render(PARAMS, inputs(checks))


def test_published_week2_figures_are_the_notebooks():
    assert report.PUBLISHED_OPTIMIZATION == PUBLISHED_WEEK2


def test_render_has_all_three_course_tables():
    text = render()
    assert "| lambd=0.7 " in text and "### Optimization (week 2" in text
    assert len(re.findall(r"\| yes +\|", text)) == 3 + 3 + 7
    assert "| `optimizer=adam_staircase` " in text and "| 0.128361 " in text
    assert "Data: `data/course/data.mat`" in text
    assert "[boundary](../models/football/he-l2_0.0-kp_1.0/boundary.png)" in text


def test_week2_table_flags_a_cost_off_in_the_sixth_decimal():
    table = report.course_optimization_table(week2(adam=(0.9433333, 0.136068)))
    assert list(table["match"]) == ["yes", "yes", "NO", "yes", "yes", "yes", "yes"]


def test_cost_at_reads_the_recorded_epoch(tmp_path):
    (tmp_path / "costs.csv").write_text("step,cost\n0,0.7\n4000,0.1360661615397438\n4999,0.13\n")
    assert report.cost_at(tmp_path / "costs.csv", 4000) == 0.1360661615397438
    with pytest.raises(report.InputError, match="no cost at epoch 1000"):
        report.cost_at(tmp_path / "costs.csv", 1000)


def test_week2_overrides_are_the_contracts_way_of_writing_a_run():
    config = {"optimizer": {"name": "adam", "beta1": 0.9}, "learning_rate": 0.01,
              "lr_decay": {"schedule": "staircase", "decay_rate": 1.0, "interval": 1000}}
    assert report.week2_overrides(config) == (
        "optimizer=adam learning_rate=0.01 lr_decay.schedule=staircase lr_decay.decay_rate=1 lr_decay.interval=1000")
    plain = {**config, "optimizer": {"name": "gd"}, "learning_rate": 0.0007, "lr_decay": {"schedule": "none", "decay_rate": 1.0, "interval": 1000}}
    assert report.week2_overrides(plain) == "optimizer=gd learning_rate=0.0007"


def test_headline_metrics_are_few_numbers():
    digits = {"variants": {"l2": {"test_accuracy": 0.98333}}, "best": "l2",
              "gradcheck": {"l2": {"init": {"verdict": "pass"}, "trained": {"verdict": "rounding"}}}}
    summary = report.headline(inputs(digits=digits))
    assert summary == {
        "course_figures_matched": {"init": 3, "regularization": 3, "optimization": 7},
        "best_held_out_accuracy": {"football": 0.87},
        "gradient_checks": {"passed": 9, "inconclusive": 1, "failed": 0},
        "digits_test_accuracy": 0.9833,
    }
