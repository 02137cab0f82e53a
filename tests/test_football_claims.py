"""The studies' measured claims (issues 8 and 10), kept true by tests through the
very code the pipeline's stages run (src/studies/), on smaller grids:

- Adam reaches full-batch gradient descent's final training cost in at least 5x
  fewer epochs on football (gd's best rate of the grid is 0.3, Adam's 0.01);
- early stopping on the dev split beats training to the end on dev accuracy
  for the net that overfits football, on every seed;
- with batch norm a [64,64,64,64] net trains on digits at learning rate 4, where
  the same net without it diverges or stalls.
"""
from __future__ import annotations

import pytest

from src.pipeline import batchnorm_rates as batchnorm, early_stopping, optimizer_race as optimizers

pytestmark = pytest.mark.slow

FOOTBALL = ["dataset=football", "seed=3"]  # generated and standardised in-process, as the pipeline does


def test_adam_reaches_gds_final_cost_in_5x_fewer_epochs():
    record, curves, _ = optimizers.run([*FOOTBALL, "layers=[10,5]", "init=he"], budget=10_000, rates=[0.01, 0.3])
    gd, adam = record["optimizers"]["gd"], record["optimizers"]["adam"]
    assert record["baseline"]["learning_rate"] == 0.3
    assert gd["best_rate"] == 0.3 and adam["best_rate"] == 0.01
    # gd at the baseline's rate reaches the baseline's own final cost by the last epoch at the latest
    assert gd["epochs_to_target"] <= record["budget"]
    assert adam["fewer_epochs_than_gd"] >= 5, record["optimizers"]
    assert len(curves["adam"]) == adam["epochs_to_target"]
    # the by-rate grid counts epochs as the summary does
    assert all(e["by_rate"][str(e["best_rate"])] == e["epochs_to_target"] for e in (gd, adam))
    assert curves["adam"][-1] <= record["baseline"]["target_cost"] < curves["adam"][-2]


def test_early_stopping_improves_dev_accuracy_on_the_overfitting_net():
    overfit = [*FOOTBALL, "layers=[20,3]", "init=xavier", "learning_rate=0.3", "num_iterations=10000", "early_stopping.every=10"]
    record = early_stopping.run(overfit, patience=1000, seeds=[1, 2, 3])
    for seed in record["seeds"]:
        assert seed["train_end"] - seed["dev_end"] > 0.1  # it does overfit
        assert seed["stopped_early"] and seed["best_iteration"] < 10000
    assert record["seeds_improved"] == 3
    assert record["dev_gain"] > 0.03


def test_batch_norm_trains_at_a_rate_where_the_plain_deep_net_cannot():
    overrides = ["dataset=digits", "init=he", "layers=[64,64,64,64]", "num_iterations=300", "cost_every=50"]
    record = batchnorm.run(overrides, rates=[4.0], rate=4.0, seeds=[0, 1], trained_accuracy=0.99)
    assert record["trained"] == {"batch_norm": 2, "plain": 0}
    assert all(row["plain"]["outcome"] in ("diverged", "stalled") for row in record["per_seed"])
