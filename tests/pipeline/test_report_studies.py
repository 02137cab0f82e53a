"""Sections (f)-(j) of the report: built from study records, worded from the numbers."""
from __future__ import annotations

from src.pipeline import report_studies as rs


def optimizer_record(adam_epochs=100):
    def entry(rate, epochs):
        return {"best_rate": rate, "epochs_to_target": epochs, "by_rate": {"0.1": epochs or "not reached", "1.0": "diverged"},
                "fewer_epochs_than_gd": round(1000 / epochs, 3) if epochs else None}

    return {
        "dataset": "football", "training_examples": 100, "layers": [10, 5], "init": "he", "seed": 3, "budget": 1000,
        "rates": [0.1, 1.0], "baseline": {"learning_rate": 0.1, "epochs": 1000, "target_cost": 0.5},
        "order": ["gd", "momentum", "rmsprop", "adam"],
        "optimizers": {"adam": entry(0.1, adam_epochs), "gd": entry(0.1, 1000), "momentum": entry(0.1, None),
                       "rmsprop": entry(0.1, 500)},
        "hyper": {"adam": {"beta1": 0.9}, "gd": {}, "momentum": {"beta": 0.9}, "rmsprop": {"beta2": 0.999}},
    }


def test_optimizers_section_keeps_the_optimizers_order_and_names_the_fastest():
    text = "\n".join(rs.optimizers_section(optimizer_record()))
    rows = [line.split("|")[1].strip() for line in text.splitlines() if line.startswith("| ") and "hyperparameters" not in line]
    assert rows[:4] == ["gd", "momentum", "rmsprop", "adam"]
    assert "**adam** gets there in 100 epochs, 10.0x fewer than gradient descent's 1000" in text
    assert "not reached" in text and "diverged" in text
    assert "studies/optimizers.png" in text


def early_record(dev_stopped):
    seeds = [{"seed": 1, "train_end": 0.95, "dev_end": 0.8, "test_end": 0.75, "train_stopped": 0.85, "dev_stopped": dev_stopped,
              "test_stopped": 0.8, "best_iteration": 120, "stopped_early": True}]
    mean = {k: v for k, v in seeds[0].items() if k.endswith(("_end", "_stopped"))}
    return {"overrides": ["dataset=football"], "patience": 100, "seeds": seeds, "mean": mean,
            "dev_gain": dev_stopped - 0.8, "seeds_improved": int(dev_stopped > 0.8), "seeds_worse": int(dev_stopped < 0.8)}


def test_early_stopping_section_says_so_when_stopping_does_not_help():
    assert "**improves dev accuracy** by 0.0500" in "\n".join(rs.early_stopping_section(early_record(0.85)))
    text = "\n".join(rs.early_stopping_section(early_record(0.78)))
    assert "**does not improve dev accuracy** here: -0.0200" in text and "worse on 1" in text


def test_multi_seed_section_gives_mean_and_sample_std():
    runs = {1: {"train_accuracy": 0.99, "test_accuracy": 0.94, "final_cost": 0.1},
            2: {"train_accuracy": 0.97, "test_accuracy": 0.96, "final_cost": 0.2}}
    text = "\n".join(rs.multi_seed_section(runs, published=(0.9933, 0.96)))
    # mean 0.98, sample std |0.99 - 0.97| / sqrt(2) = 0.0141
    assert "train **0.9800 +- 0.0141**" in text and "test **0.9500 +- 0.0141**" in text
    assert "train 0.9933 (0.9 std above the mean)" in text


def test_multi_seed_section_without_spread_says_so():
    runs = {seed: {"train_accuracy": 0.99, "test_accuracy": 0.95, "final_cost": 0.1} for seed in (1, 2)}
    text = "\n".join(rs.multi_seed_section(runs, published=(0.9933, 0.96)))
    assert "train 0.9933 (every seed here gave 0.9900)" in text and "inf" not in text


def test_gradient_norms_section_reads_vanishing_and_exploding_off_the_medians():
    record = {"data": "circles", "depth": 2, "width": 3, "seed": 0,
              "norms": {"zeros": [0, 0, 0], "random": [1e10, 1e11, 1e12], "xavier": [1e-4, 1e-4, 1e-4], "he": [1e-2, 1e-2, 1e-2]},
              "median": {"zeros": 0.0, "random": 1e11, "xavier": 1e-4, "he": 1e-2}}
    text = "\n".join(rs.gradient_norms_section(record))
    assert "xavier 1.00e-04 (100x smaller" in text and "random 1.00e+11 (1.0e+13x larger" in text
    assert "studies/gradient_norms.png" in text


def test_batchnorm_section_counts_the_seeds():
    trained = {"outcome": "trained", "final_cost": 0.01, "train": 1.0, "dev": 0.97, "test": 0.96}
    record = {"overrides": ["dataset=digits"], "grid_seed": 0, "rate": 4.0, "trained_accuracy": 0.99,
              "grid": [{"rate": 4.0, "plain": {"outcome": "diverged", "epoch": 50}, "batch_norm": trained}],
              "per_seed": [{"seed": 0, "plain": {"outcome": "diverged", "epoch": 50}, "batch_norm": trained}],
              "trained": {"plain": 0, "batch_norm": 1}}
    text = "\n".join(rs.batchnorm_section(record))
    assert "diverged (epoch 50)" in text and "trained: train 1.0000, test 0.9600" in text
    assert "**with batch norm trains on 1 of 1 seeds**" in text and "**without it on 0 of 1**" in text
