"""Sections (f)-(j) of reports/report.md: the studies beyond the course's tables.

Each builder is a pure function of a study's record (the study stages of the
same name) and returns markdown lines; ``src.report`` reads the files and calls
them. The words follow the numbers: a section says what was measured, then
reads it off the record, including when the result is not the hoped-for one.
"""
from __future__ import annotations

import pandas as pd

from ..aggregate import aggregate, mean_std
from .tables import md

# Studies whose stage writes reports/studies/<name>.json; multi_seed's record is its runs' metrics.
FROM_JSON = ("optimizers", "early_stopping", "gradient_norms", "batchnorm")


def sections(studies: dict, published_he: tuple[float, float] | None = None) -> list[str]:
    """(f)-(j) in the report's order, for the studies present in ``studies`` (name -> record)."""
    builders = {
        "optimizers": optimizers_section,
        "early_stopping": early_stopping_section,
        "multi_seed": lambda record: multi_seed_section(record, published_he),
        "gradient_norms": gradient_norms_section,
        "batchnorm": batchnorm_section,
    }
    return [line for name, build in builders.items() if name in studies for line in build(studies[name])]


def optimizers_section(record: dict) -> list[str]:
    base = record["baseline"]
    opts = {name: record["optimizers"][name] for name in record["order"]}
    rows = [
        {"optimizer": name,
         "hyperparameters": ", ".join(f"{k} {v:g}" for k, v in record["hyper"][name].items()) or "-",
         "best learning rate": "-" if e["best_rate"] is None else f"{e['best_rate']:g}",
         "epochs to target": "not reached" if e["epochs_to_target"] is None else str(e["epochs_to_target"]),
         "fewer epochs than gd": "-" if e["fewer_epochs_than_gd"] is None else f"{e['fewer_epochs_than_gd']:.1f}x"}
        for name, e in opts.items()
    ]
    grid = pd.DataFrame([{"learning rate": f"{rate:g}", **{name: e["by_rate"][str(rate)] for name, e in opts.items()}}
                         for rate in record["rates"]])
    fastest = min((n for n in opts if opts[n]["epochs_to_target"]), key=lambda n: opts[n]["epochs_to_target"], default=None)
    lines = [
        "",
        "## (f) Optimizers: epochs to a target cost",
        "",
        f"{record['dataset']} ({record['training_examples']} training examples), layers {record['layers']}, "
        f"init {record['init']}, seed {record['seed']}, full batch. Target: the baseline's final training cost, plain "
        f"gradient descent at its best rate of the grid ({base['learning_rate']:g}) after {base['epochs']} epochs: "
        f"**{base['target_cost']:.6f}**. Every optimizer starts from the same weights at every rate of the same grid "
        f"({', '.join(f'{r:g}' for r in record['rates'])}; budget {record['budget']} epochs) and stops when its cost "
        "first reaches the target (the cost is computed every epoch).",
        "",
        md(pd.DataFrame(rows)),
        "",
    ]
    if fastest and fastest != "gd" and opts["gd"]["epochs_to_target"]:
        lines.append(f"**{fastest}** gets there in {opts[fastest]['epochs_to_target']} epochs, "
                     f"{opts[fastest]['fewer_epochs_than_gd']:.1f}x fewer than gradient descent's "
                     f"{opts['gd']['epochs_to_target']} at its best rate.")
    lines += [
        "Wall time is left out (it is not reproducible); `python bench/optimizers_bench.py` prints it beside the epochs.",
        "",
        "Epochs to target by learning rate (\"diverged\": the cost became NaN; \"not reached\": within the budget):",
        "",
        md(grid, numparse=False),
        "",
        "![cost curves of the optimizers](studies/optimizers.png)",
    ]
    return lines


def early_stopping_section(record: dict) -> list[str]:
    seeds = pd.DataFrame(record["seeds"])
    mean = record["mean"]
    table = seeds[["seed", "train_end", "dev_end", "test_end", "train_stopped", "dev_stopped", "test_stopped", "best_iteration"]]
    table = pd.concat([table.astype({"seed": str, "best_iteration": str}),
                       pd.DataFrame([{"seed": "mean", **mean, "best_iteration": ""}])], ignore_index=True)
    table.columns = ["seed", "train (to the end)", "dev (to the end)", "test (to the end)",
                     "train (stopped)", "dev (stopped)", "test (stopped)", "best iteration"]
    n = len(record["seeds"])
    gain = record["dev_gain"]
    if gain > 0:
        verdict = (f"Early stopping **improves dev accuracy** by {gain:.4f} on average "
                   f"(better on {record['seeds_improved']} of {n} seeds, worse on {record['seeds_worse']}); "
                   f"test accuracy moves from {mean['test_end']:.4f} to {mean['test_stopped']:.4f}.")
    else:
        verdict = (f"Early stopping **does not improve dev accuracy** here: {gain:+.4f} on average "
                   f"(better on {record['seeds_improved']} of {n} seeds, worse on {record['seeds_worse']}).")
    return [
        "",
        "## (g) Early stopping",
        "",
        f"`{' '.join(record['overrides'])}`: each seed trained to the end, and again with "
        f"`early_stopping.patience={record['patience']}` (dev cross-entropy checked every `early_stopping.every` "
        "epochs, or `cost_every` when unset; "
        "the best parameters are restored, and the best iteration is logged to MLflow as `best_iteration`).",
        "",
        md(table),
        "",
        verdict,
        "The course's caveat stands: early stopping couples two jobs, fitting the training set and not overfitting it, "
        "in one knob (the iteration count); L2 in (b) attacks the gap while training runs to the end.",
    ]


def multi_seed_section(runs: dict[int, dict], published: tuple[float, float] | None = None) -> list[str]:
    """runs: seed -> the run's metrics.json (stage multi_seed)."""
    table = pd.DataFrame([{"seed": str(seed), **{k: m[k] for k in ("train_accuracy", "test_accuracy", "final_cost")}}
                          for seed, m in runs.items()])
    stats = aggregate(table, metrics=["train_accuracy", "test_accuracy", "final_cost"], params=[]).iloc[0]
    lines = [
        "",
        "## (h) Multi-seed: how much is the seed's luck?",
        "",
        "`experiment=multi_seed`: course_init's circles setup (layers [10,5], lr 0.01, 15000 iterations) with He "
        f"init on the modern generator, seeds {', '.join(map(str, runs))}; each seed draws its own weights. Stage "
        "`multi_seed` runs them as one Hydra multirun: an MLflow parent run with a child per seed, so "
        "`python -m src.compare --sweep latest --aggregate` gives the same mean +- std from MLflow.",
        "",
        md(table),
        "",
        f"Over {int(stats['n'])} seeds: train **{mean_std(stats, 'train_accuracy')}**, "
        f"test **{mean_std(stats, 'test_accuracy')}** (mean +- sample std).",
    ]
    if published:
        def where(value: float, metric: str) -> str:
            mean, spread = stats[f"{metric}_mean"], stats[f"{metric}_std"]
            if not spread > 0:  # every seed gave the same figure: no spread to place it in
                return f"every seed here gave {mean:.4f}"
            z = (value - mean) / spread
            return f"{abs(z):.1f} std {'above' if z > 0 else 'below'} the mean"

        lines.append(f"The course's single He run (its own seeding) reported train {published[0]:.4f} "
                     f"({where(published[0], 'train_accuracy')}) and test {published[1]:.4f} "
                     f"({where(published[1], 'test_accuracy')}): one seed's figure is a sample from this spread, "
                     "not the method's accuracy.")
    return lines


def gradient_norms_section(record: dict) -> list[str]:
    norms = record["norms"]
    inits = list(norms)
    layers = len(next(iter(norms.values())))
    table = pd.DataFrame({"layer": range(1, layers + 1), **{init: [f"{v:.2e}" for v in norms[init]] for init in inits}})
    med = record["median"]
    he, xavier, random = med.get("he"), med.get("xavier"), med.get("random")
    lines = [
        "",
        "## (i) Vanishing and exploding gradients at initialisation",
        "",
        f"A deep ReLU net, {record['depth']} hidden layers of {record['width']} units, on the {record['data']}; "
        f"||dW[l]|| (Frobenius) of every layer before any training, seed {record['seed']}, the same standard normals "
        "scaled by each scheme.",
        "",
        "![gradient norm per layer at initialisation](studies/gradient_norms.png)",
        "",
        md(table, numparse=False),
        "",
    ]
    if he and xavier and random:
        lines.append(
            f"Median over the layers: he {he:.2e}, xavier {xavier:.2e} ({he / xavier:.0f}x smaller: each ReLU layer "
            f"halves the signal's variance under Xavier's 1/n, so gradients vanish with depth), random "
            f"{random:.2e} ({random / he:.1e}x larger: randn x 10 multiplies it at every layer, they explode); "
            "zeros gives exactly zero weight gradients in every layer (no symmetry to break). "
            "He's sqrt(2/n) keeps every layer's gradient at one scale.")
    return lines


def batchnorm_section(record: dict) -> list[str]:
    def cell(r: dict) -> str:
        if r["outcome"] == "diverged":
            return f"diverged (epoch {r['epoch']})"
        return f"{r['outcome']}: train {r['train']:.4f}, test {r['test']:.4f}"

    grid = pd.DataFrame([{"learning rate": f"{row['rate']:g}", "no batch norm": cell(row["plain"]),
                          "batch norm": cell(row["batch_norm"])} for row in record["grid"]])
    seeds = pd.DataFrame([{"seed": row["seed"], "no batch norm": cell(row["plain"]), "batch norm": cell(row["batch_norm"])}
                          for row in record["per_seed"]])
    n, trained = len(record["per_seed"]), record["trained"]
    return [
        "",
        "## (j) Batch norm and the learning rate (digits)",
        "",
        f"`{' '.join(record['overrides'])}`, softmax over 10 classes, full-batch gradient descent, the same initial "
        "weights with and without `batch_norm` (it only swaps each hidden layer's bias for gamma and beta). "
        "\"stalled\": final training cost above 90 % of log 10, a uniform guess; \"diverged\": the cost became NaN.",
        "",
        "![train accuracy by learning rate](studies/batchnorm.png)",
        "",
        f"Learning-rate grid, seed {record['grid_seed']}:",
        "",
        grid.to_markdown(index=False),
        "",
        f"Learning rate {record['rate']:g}, every seed:",
        "",
        seeds.to_markdown(index=False),
        "",
        f"At learning rate {record['rate']:g} the net **with batch norm trains on {trained['batch_norm']} of {n} seeds** "
        f"(train accuracy > {record['trained_accuracy']}), **without it on {trained['plain']} of {n}**: normalising "
        "each layer's Z keeps the next layer's input at one scale, so a step size that blows up (or kills) the plain "
        "net's ReLUs stays usable.",
    ]
