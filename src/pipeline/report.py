"""Stage ``report``: ``reports/report.md`` from the pipeline's outputs.

    python -m src.pipeline.report reports/report.md reports/summary.json

(a) the course's three tables, ours beside the published figures; (b) per
dataset, the init x regularisation matrix with a bias/variance diagnosis per
row; (c) the gradient checks; (d) links to the figures; (e) digits (softmax,
batch norm); (f)-(j) the studies beyond the course (report_studies.py:
optimizers, early stopping, multi-seed, gradient norms, batch norm vs learning
rate). ``read`` gathers the stages' outputs; the table builders, ``render`` and
``headline`` (reports/summary.json, DVC's metrics) are pure functions of them.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from ..cli import arguments, report_errors
from ..diagnosis import BIAS_THRESHOLD, VARIANCE_THRESHOLD
from ..errors import InputError
from ..io import atomic_write_json, atomic_write_text
from ..nn.gradient_check import VERDICTS, count
from . import report_studies
from .common import Variant, load_params, variants
from .tables import md

# The course notebooks' printed accuracies (train, test).
PUBLISHED_INIT = {"zeros": (0.5, 0.5), "random": (0.83, 0.86), "he": (0.9933, 0.96)}
PUBLISHED_REGULARIZATION = {"baseline": (0.9479, 0.915), "l2": (0.9384, 0.93), "dropout": (0.9289, 0.95)}
REGULARIZATION_LABELS = {"baseline": "baseline", "l2": "lambd=0.7", "dropout": "keep_prob=0.86"}
# Week 2's optimization notebook (train accuracy, cost after epoch 4000), keyed like
# params.yaml course.optimization; its costs are printed to 6 decimals.
PUBLISHED_OPTIMIZATION = {
    "gd": (0.7167, 0.573367), "momentum": (0.7167, 0.573444), "adam": (0.9433, 0.136066),
    "gd_inverse_time": (0.6533, 0.655486), "gd_staircase": (0.9433, 0.117512),
    "momentum_staircase": (0.9533, 0.123218), "adam_staircase": (0.9400, 0.128361),
}
COST_EPOCH, COST_DECIMALS = 4000, 6
DECIMALS = 4  # the published figures' precision


# Each run made its diagnosis once (src/recipe.py with src/diagnosis.py's rule) and
# wrote it to its tags.json, as MLflow tags it; the report only words it.
WORDING = {
    "both": "high bias + high variance",
    "high bias": "high bias (underfits)",
    "high variance": "high variance (overfits)",
    "good": "low bias, low variance",
}


def matches(ours: float, published: float) -> bool:
    return round(ours, DECIMALS) == round(published, DECIMALS)


def course_init_table(metrics: dict[str, dict]) -> pd.DataFrame:
    """metrics: init -> the run's metrics.json."""
    rows = []
    for init, (train, test) in PUBLISHED_INIT.items():
        m = metrics[init]
        rows.append(_course_row(f"init={init}", train, m["train_accuracy"], test, m["test_accuracy"]))
    return pd.DataFrame(rows)


def course_regularization_table(runs: dict[str, dict]) -> pd.DataFrame:
    rows = []
    for name, (train, test) in PUBLISHED_REGULARIZATION.items():
        m = runs[name]
        rows.append(_course_row(REGULARIZATION_LABELS[name], train, m["train_accuracy"], test, m["test_accuracy"]))
    return pd.DataFrame(rows)


def course_optimization_table(runs: dict[str, dict]) -> pd.DataFrame:
    """runs: name -> {"train_accuracy", "cost" (after epoch COST_EPOCH), "run" (its overrides)}."""
    rows = []
    for name, (train, cost) in PUBLISHED_OPTIMIZATION.items():
        ours = runs[name]
        ok = matches(ours["train_accuracy"], train) and round(ours["cost"], COST_DECIMALS) == round(cost, COST_DECIMALS)
        rows.append({
            "run": f"`{ours['run']}`",
            "train (published)": f"{train:.{DECIMALS}f}",
            "train (ours)": f"{ours['train_accuracy']:.{DECIMALS}f}",
            f"cost at epoch {COST_EPOCH} (published)": f"{cost:.{COST_DECIMALS}f}",
            f"cost at epoch {COST_EPOCH} (ours)": f"{ours['cost']:.{COST_DECIMALS}f}",
            "match": "yes" if ok else "NO",
        })
    return pd.DataFrame(rows)


def cost_at(costs_csv: Path, epoch: int) -> float:
    """The cost a run recorded at ``epoch`` (its costs.csv: step,cost)."""
    try:
        for line in costs_csv.read_text().splitlines()[1:]:
            step, value = line.split(",")
            if int(step) == epoch:
                return float(value)
    except (OSError, ValueError) as error:
        raise InputError(f"report: cannot read {costs_csv} ({error}); run the earlier stages first (dvc repro)") from None
    raise InputError(f"report: {costs_csv} has no cost at epoch {epoch}")


def _course_row(run: str, train: float, our_train: float, test: float, our_test: float) -> dict:
    ok = matches(our_train, train) and matches(our_test, test)
    return {
        "run": run,
        "train (published)": train,
        "train (ours)": our_train,
        "test (published)": test,
        "test (ours)": our_test,
        f"match to {DECIMALS} decimals": "yes" if ok else "NO",
    }


def eval_split(metrics: dict) -> str:
    """Dev when the dataset has one; the course's circles have only train/test."""
    return "dev" if "dev_accuracy" in metrics else "test"


def matrix_table(runs: list[tuple[Variant, dict]]) -> pd.DataFrame:
    """runs: (variant, its metrics.json plus its tags.json's ``diagnosis``)."""
    rows = []
    for variant, m in runs:
        held_out = m[f"{eval_split(m)}_accuracy"]
        rows.append(
            {
                "init": variant.init,
                "regularisation": variant.regularisation,
                "lambd": variant.lambd,
                "keep_prob": variant.keep_prob,
                "train": m["train_accuracy"],
                "dev": m.get("dev_accuracy"),  # circles has no dev split: "–"
                "test": m["test_accuracy"],
                "gap": m["train_accuracy"] - held_out,
                "final cost": m["final_cost"],
                "diagnosis": WORDING[m["diagnosis"]],
            }
        )
    return pd.DataFrame(rows)


def gap_table(matrix: pd.DataFrame) -> pd.DataFrame:
    """Train - dev gap per init (rows) and regularisation (columns)."""
    order = ["baseline", "L2", "dropout", "L2+dropout"]
    table = matrix.pivot(index="init", columns="regularisation", values="gap")
    table = table[[c for c in order if c in table.columns]].reindex(pd.unique(matrix["init"]))
    return table.reset_index()


def gradcheck_table(checks: dict) -> pd.DataFrame:
    """One row per variant; every cell a string, differences in scientific notation."""
    rows = []
    for name, c in checks.items():
        rows.append(
            {
                "variant": name,
                "lambd": str(c["lambd"]),
                "at init": f"{c['init']['difference']:.2e}",
                "verdict (init)": c["init"]["verdict"],
                "at trained": f"{c['trained']['difference']:.2e}",
                "verdict (trained)": c["trained"]["verdict"],
                "failed arrays": ", ".join(sorted(set(c["init"]["flagged"]) | set(c["trained"]["flagged"]))) or "-",
            }
        )
    return pd.DataFrame(rows)


def gradcheck_notes(checks: dict) -> list[str]:
    """Why each check that did not pass got its verdict (the stage's record of the one rule)."""
    return [
        f"- {name} {'at init' if point == 'init' else 'trained'}: {c[point]['verdict']}: {c[point]['why']}."
        for name, c in checks.items() for point in ("init", "trained") if c[point]["verdict"] != "pass"
    ]


@dataclass
class Inputs:
    """What the report is made of, as ``read`` finds it on disk (the stages' outputs).

    course_init, course_regularization: name -> the run's metrics.json; course_data: the
    Regularization runs' data file; course_optimization: name -> {"train_accuracy", "cost",
    "run"}; runs: dataset -> [(Variant, metrics with its diagnosis)]; gradchecks: dataset ->
    stage JSON; digits: reports/digits/summary.json (None leaves section (e) out); studies:
    name -> record (sections (f)-(j)); a missing name leaves its section out."""

    course_init: dict
    course_regularization: dict
    course_data: str
    course_optimization: dict
    runs: dict[str, list]
    gradchecks: dict[str, dict]
    digits: dict | None = None
    studies: dict = field(default_factory=dict)


def render(params: dict, inputs: Inputs) -> str:
    """The whole report."""
    course_init, course_optimization, runs, gradchecks = inputs.course_init, inputs.course_optimization, inputs.runs, inputs.gradchecks
    digits, studies = inputs.digits, inputs.studies
    bayes_used = {ds: sorted({f"{m['bayes_error']:g}" for _, m in r}) for ds, r in runs.items()}
    bayes_text = ", ".join(f"{ds} {'/'.join(values)}" for ds, values in bayes_used.items())
    train = params["train"]
    out = [
        "# Report: initialisation, regularisation, gradient checking",
        "",
        "Written by `dvc repro` (stage `report`, src/pipeline/report.py) from the pipeline's outputs; "
        "every number below is deterministic. Parameters: params.yaml.",
        "",
        "## (a) Course reproduction",
        "",
        "### Initialization (circles, `experiment=course_init`, layers [10,5], 15000 iterations, lr 0.01)",
        "",
        md(course_init_table(course_init)),
        "",
        "### Regularization (the course's data.mat, `experiment=course_regularization`, layers [20,3], 30000 iterations, lr 0.3)",
        "",
    ]
    out += [
        md(course_regularization_table(inputs.course_regularization)),
        "",
        f"Data: `{inputs.course_data}`, the course's own, shipped with the project (data/course/README.md).",
        "",
        "### Optimization (week 2: moons, `experiment=course_optimization`, layers [5,2], mini-batches of 64, 5000 epochs)",
        "",
        "He init after `np.random.seed(3)`, the mini-batch order reseeded every epoch from the course's own seed, a "
        "decayed rate set after each epoch, as the course's `model()` does. The published train accuracy and cost "
        f"after epoch {COST_EPOCH}, ours beside them (match: accuracy to {DECIMALS} decimals and cost to "
        f"{COST_DECIMALS}):",
        "",
        md(course_optimization_table(course_optimization), numparse=False),
    ]
    out += [
        "",
        "## (b) Init x regularisation, per dataset",
        "",
        f"Every dataset is standardised with its training split's mean and std (stage `normalize`). "
        f"Network {train['layers']}, learning rate {train['learning_rate']}, {train['num_iterations']} iterations of "
        f"full-batch gradient descent, seed {train['seed']} ({train['rng']} rng). L2 variants use lambd={train['lambd']}, "
        f"dropout variants keep_prob={train['keep_prob']}; `random` is the course's randn x 10.",
        "",
        f"Diagnosis, as in the course, made by each run (src/diagnosis.py; its MLflow `diagnosis` tag): **high bias** "
        f"if avoidable bias = train error - Bayes error > {BIAS_THRESHOLD}; **high variance** if variance = dev error "
        f"- train error (= `gap`, train - dev accuracy) > {VARIANCE_THRESHOLD}. The Bayes error is the dataset's own: "
        "~0, the course's proxy (human-level error), except where labels are noisy by construction (football flips "
        f"a tenth of its labels): {bayes_text}. The course's circles have no dev split; there the test split stands "
        "in for dev.",
    ]
    for dataset, dataset_runs in runs.items():
        matrix = matrix_table(dataset_runs)
        out += [
            "",
            f"### {dataset}",
            "",
            md(matrix),
            "",
            "Train - dev gap by init and regularisation (smaller = less overfitting):",
            "",
            md(gap_table(matrix)),
        ]
        out += _regularisation_note(dataset, matrix, VARIANCE_THRESHOLD)
    out += [
        "",
        "## (c) Gradient checks",
        "",
        "Backprop against two-sided finite differences (epsilon 1e-7, float64) on each training split, at the "
        "initial and at the trained parameters, with the run's L2 term included and dropout switched off. "
        "One verdict rule (src/nn/gradient_check.py): **pass** when the overall difference is below 2e-7 (the course's "
        "threshold); otherwise **rounding** (inconclusive: finite differences cannot resolve these gradients) when no "
        "gradient entry differs from its numeric "
        "estimate by more than 10 finite-difference resolutions (the cost's rounding over 2 epsilon), else **fail**. "
        "Per-parameter tables: the linked files.",
    ]
    for dataset, checks in gradchecks.items():
        order = [v.name for v, _ in runs.get(dataset, [])]
        checks = {name: checks[name] for name in sorted(checks, key=lambda n: order.index(n) if n in order else len(order))}
        verdicts = [c[p]["verdict"] for c in checks.values() for p in ("init", "trained")]
        out += [
            "",
            f"### {dataset} ({count(verdicts)}; [per-parameter tables](gradcheck/{dataset}.md))",
            "",
            md(gradcheck_table(checks), numparse=False),
        ]
        notes = gradcheck_notes(checks)
        if notes:
            out += ["", *notes]
    out += ["", "## (d) Figures", "", "Cost curves and decision boundaries (training split) of every run.", ""]
    figure_rows = [{"run": f"course init={init}", "cost": f"[cost](../models/course/init-{init}/cost.png)", "boundary": f"[boundary](../models/course/init-{init}/boundary.png)"} for init in PUBLISHED_INIT]
    figure_rows += [
        {"run": f"course {REGULARIZATION_LABELS[name]}", "cost": f"[cost](../models/course/regularization/{name}/cost.png)", "boundary": f"[boundary](../models/course/regularization/{name}/boundary.png)"}
        for name in PUBLISHED_REGULARIZATION
    ]
    figure_rows += [
        {"run": f"course week 2 {name}", "cost": f"[cost](../models/course/optimization/{name}/cost.png)", "boundary": f"[boundary](../models/course/optimization/{name}/boundary.png)"}
        for name in PUBLISHED_OPTIMIZATION
    ]
    for dataset, dataset_runs in runs.items():
        for variant, _ in dataset_runs:
            d = variant.directory("../models").as_posix()
            figure_rows.append({"run": f"{dataset} {variant.name}", "cost": f"[cost]({d}/cost.png)", "boundary": f"[boundary]({d}/boundary.png)"})
    out += [md(pd.DataFrame(figure_rows)), "", "`dvc plots show` renders every cost curve (costs.csv) and figure into dvc_plots/index.html."]
    if digits is not None:
        out += digits_section(digits)
    out += report_studies.sections(studies or {}, published_he=PUBLISHED_INIT["he"])
    return "\n".join(out) + "\n"


def digits_section(summary: dict) -> list[str]:
    """(e): the digits variants, the best one's confusion matrix, the gradient checks."""
    settings = summary["settings"]
    rows = [
        {"variant": name, "batch norm": "yes" if v["batch_norm"] else "no", "lambd": v["lambd"], "keep_prob": v["keep_prob"],
         "train": v["train_accuracy"], "dev": v["dev_accuracy"], "test": v["test_accuracy"], "final cost": v["final_cost"]}
        for name, v in summary["variants"].items()
    ]

    checks = [
        {"variant": name, "arrays": ", ".join(c["init"]["per_param"]),
         "at init": f"{c['init']['difference']:.2e}", "verdict (init)": c["init"]["verdict"],
         "at trained": f"{c['trained']['difference']:.2e}", "verdict (trained)": c["trained"]["verdict"]}
        for name, c in summary["gradcheck"].items()
    ]
    best = summary["best"]
    return [
        "",
        "## (e) Multi-class: scikit-learn's digits (softmax, batch norm)",
        "",
        f"8x8 images, 64 features, 10 classes; 1077 train / 360 dev / 360 test, standardised with the training "
        f"split's statistics. Softmax output with categorical cross-entropy, network {settings['layers']}, He init, "
        f"learning rate {settings['learning_rate']}, {settings['num_iterations']} iterations of full-batch gradient "
        f"descent, seed {settings['seed']}. Batch norm normalises each hidden layer's Z with the batch's mean and "
        "variance in training (learned gamma, beta; the layer has no bias b, which beta replaces) and with their "
        "running averages at prediction. Accuracies are each run's metrics.json, the values it logged to MLflow.",
        "",
        md(pd.DataFrame(rows)),
        "",
        f"Best on dev: **{best}**, test accuracy **{summary['variants'][best]['test_accuracy']:.4f}**. "
        "Its test confusion matrix (rows: true digit, columns: predicted):",
        "",
        "![digits confusion matrix](digits/confusion.png)",
        "",
        "Gradient checks, softmax + cross-entropy and batch norm (gamma, beta and the W feeding it) in training mode, "
        "at the initial and the trained parameters (first 100 training examples, the run's L2, dropout off), read by "
        "the same rule as (c). Trained to a cost near 0, the gradient entries shrink towards the cost's rounding "
        "(the loss sums log-sum-exp terms of logits ~10, each rounded to their spacing), and the relative measure "
        "then measures rounding. Verdicts: "
        f"{count(c[p]['verdict'] for c in summary['gradcheck'].values() for p in ('init', 'trained'))}; "
        "[per-parameter tables](digits/gradcheck.md):",
        "",
        md(pd.DataFrame(checks), numparse=False),
    ]


def _regularisation_note(dataset: str, matrix: pd.DataFrame, variance_threshold: float) -> list[str]:
    """One sentence per init whose baseline overfits: how much each regulariser narrows the gap."""
    notes = []
    for init, rows in matrix.groupby("init", sort=False):
        gaps = dict(zip(rows["regularisation"], rows["gap"]))
        base = gaps.get("baseline")
        if base is None or base <= variance_threshold:
            continue
        others = ", ".join(f"{reg} {gaps[reg]:.3f}" for reg in ("L2", "dropout", "L2+dropout") if reg in gaps)
        narrowed = all(gaps[reg] < base for reg in ("L2", "dropout", "L2+dropout") if reg in gaps)
        verb = "all narrow it" if narrowed else "not all narrow it"
        notes.append(f"- {init}: the baseline overfits (gap {base:.3f}); {verb}: {others}.")
    if not notes:
        return []
    return ["", f"On {dataset}, regularisation against overfitting:", "", *notes]


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise InputError(f"report: cannot read {path} ({error}); run the earlier stages first (dvc repro)") from None


def read_studies(studies_dir: Path = Path("reports/studies"), models: Path = Path("models")) -> dict:
    """The studies' records (their stages' JSON; multi_seed's: seed -> that run's metrics.json)."""
    records = {name: read_json(studies_dir / f"{name}.json") for name in report_studies.FROM_JSON}
    seeds = sorted(models.glob("multi_seed/seed-*/metrics.json"), key=lambda p: int(p.parent.name.removeprefix("seed-")))
    records["multi_seed"] = {int(path.parent.name.removeprefix("seed-")): read_json(path) for path in seeds}
    return records


def read_run(directory: Path) -> dict:
    """A run's metrics.json and, from its tags.json, the diagnosis it made and the Bayes error it used."""
    tags = read_json(directory / "tags.json")
    return {**read_json(directory / "metrics.json"), "diagnosis": tags["diagnosis"], "bayes_error": float(tags["bayes_error"])}


def read_config(directory: Path) -> dict:
    try:
        return yaml.safe_load((directory / "config.yaml").read_text())
    except OSError as error:
        raise InputError(f"report: cannot read {directory / 'config.yaml'} ({error}); run the earlier stages first (dvc repro)") from None


def week2_overrides(config: dict) -> str:
    """What sets a week-2 run apart, as the contract's overrides of experiment=course_optimization."""
    decay = config["lr_decay"]
    words = [f"optimizer={config['optimizer']['name']}", f"learning_rate={config['learning_rate']:g}"]
    if decay["schedule"] != "none":
        words.append(f"lr_decay.schedule={decay['schedule']} lr_decay.decay_rate={decay['decay_rate']:g}")
        if decay["schedule"] == "staircase":
            words.append(f"lr_decay.interval={decay['interval']}")
    return " ".join(words)


def read(params: dict, models: Path = Path("models"), reports: Path = Path("reports")) -> Inputs:
    course = models / "course"
    return Inputs(
        course_init={init: read_json(course / f"init-{init}" / "metrics.json") for init in PUBLISHED_INIT},
        course_regularization={name: read_json(course / "regularization" / name / "metrics.json") for name in PUBLISHED_REGULARIZATION},
        course_data=read_config(course / "regularization" / "baseline")["dataset"]["path"],
        course_optimization={
            name: {"train_accuracy": read_json(course / "optimization" / name / "metrics.json")["train_accuracy"],
                   "cost": cost_at(course / "optimization" / name / "costs.csv", COST_EPOCH),
                   "run": week2_overrides(read_config(course / "optimization" / name))}
            for name in PUBLISHED_OPTIMIZATION
        },
        runs={ds: [(v, read_run(v.directory(models))) for v in variants(params, ds)] for ds in params["datasets"]},
        gradchecks={ds: read_json(reports / "gradcheck" / f"{ds}.json") for ds in params["datasets"]},
        digits=read_json(reports / "digits" / "summary.json"),
        studies=read_studies(reports / "studies", models),
    )


def headline(inputs: Inputs) -> dict:
    """reports/summary.json, DVC's metrics: the few numbers to compare across experiments
    (`dvc exp show`, `dvc metrics diff`). How many course figures we match, the best held-out
    accuracy on each dataset (dev, else test), the digits test accuracy, the gradient checks."""
    def best(runs: list) -> float:
        return max(m.get("dev_accuracy", m["test_accuracy"]) for _, m in runs)

    tables = {"init": course_init_table(inputs.course_init), "regularization": course_regularization_table(inputs.course_regularization),
              "optimization": course_optimization_table(inputs.course_optimization)}
    verdicts = [c[p]["verdict"] for checks in inputs.gradchecks.values() for c in checks.values() for p in ("init", "trained")]
    if inputs.digits is not None:
        verdicts += [c[p]["verdict"] for c in inputs.digits["gradcheck"].values() for p in ("init", "trained")]
    summary = {
        "course_figures_matched": {name: int((table.iloc[:, -1] == "yes").sum()) for name, table in tables.items()},
        "best_held_out_accuracy": {ds: round(best(runs), 4) for ds, runs in inputs.runs.items()},
        "gradient_checks": {words.split()[0]: verdicts.count(v) for v, words in VERDICTS.items()},
    }
    if inputs.digits is not None:
        summary["digits_test_accuracy"] = round(inputs.digits["variants"][inputs.digits["best"]]["test_accuracy"], 4)
    return summary


@report_errors
def main(argv: list[str] | None = None) -> None:
    argv = arguments(argv, 2, "python -m src.pipeline.report OUT.md SUMMARY.json")
    params = load_params()
    inputs = read(params)
    atomic_write_text(argv[0], render(params, inputs))
    atomic_write_json(argv[1], headline(inputs))
    print(f"report -> {argv[0]}, {argv[1]}")


if __name__ == "__main__":
    main()
