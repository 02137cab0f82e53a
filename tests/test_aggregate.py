import numpy as np
import pandas as pd
import pytest

from src.aggregate import aggregate, mean_std


def runs(prefix=""):
    rows = []
    for lambd, base in (("0.0", 0.80), ("0.7", 0.90)):
        for seed, offset in zip(("1", "2", "3"), (-0.01, 0.0, 0.01)):
            rows.append({f"{prefix[0]}init" if prefix else "init": "he",
                         f"{prefix[0]}lambd" if prefix else "lambd": lambd,
                         f"{prefix[0]}seed" if prefix else "seed": seed,
                         f"{prefix[1]}dev_accuracy" if prefix else "dev_accuracy": base + offset,
                         f"{prefix[1]}final_cost" if prefix else "final_cost": 1.0 - base})
    return pd.DataFrame(rows)


def test_mean_and_std_per_configuration_over_seeds():
    table = aggregate(runs(), metrics=["dev_accuracy", "final_cost"])
    assert list(table.columns) == ["init", "lambd", "n", "dev_accuracy_mean", "dev_accuracy_std", "final_cost_mean", "final_cost_std"]
    assert list(table["lambd"]) == ["0.0", "0.7"] and list(table["n"]) == [3, 3]
    np.testing.assert_allclose(table["dev_accuracy_mean"], [0.80, 0.90])
    np.testing.assert_allclose(table["dev_accuracy_std"], [0.01, 0.01])  # sample std of -0.01, 0, 0.01
    np.testing.assert_allclose(table["final_cost_std"], [0.0, 0.0], atol=1e-12)
    assert mean_std(table.iloc[1], "dev_accuracy") == "0.9000 +- 0.0100"


def test_reads_mlflow_search_runs_layout():
    mlflow_like = runs(prefix=("params.", "metrics."))
    mlflow_like["run_id"] = [f"r{i}" for i in range(len(mlflow_like))]
    mlflow_like["params.out_dir"] = [f"/tmp/{i}" for i in range(len(mlflow_like))]
    table = aggregate(mlflow_like)
    assert list(table["n"]) == [3, 3]
    assert {"dev_accuracy_mean", "final_cost_mean"} <= set(table.columns) and "out_dir" not in table


def test_one_seed_has_no_std_and_no_metrics_is_an_error():
    table = aggregate(runs().iloc[:1], metrics=["dev_accuracy"])
    assert table["n"].tolist() == [1] and np.isnan(table["dev_accuracy_std"][0])
    with pytest.raises(ValueError, match="no metric"):
        aggregate(runs(), metrics=["nope"])


def test_five_seeds_of_course_init_he_on_modern_rng():
    from hydra import compose, initialize_config_dir

    from src.config import CONF_DIR, run_config
    from src.recipe import train

    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        base = compose("config", ["experiment=multi_seed"], return_hydra_config=True)
    seeds = [int(s) for s in base.hydra.sweeper.params.seed.split(",")]
    cfgs = [run_config(["experiment=multi_seed", f"seed={s}"]) for s in seeds]
    assert seeds == [1, 2, 3, 4, 5] and base.rng == "modern" and base.init == "he" and base.num_iterations == 15000
    rows = [{"init": c.init, "rng": c.rng, "seed": c.seed, **train(c).metrics} for c in cfgs]
    table = aggregate(pd.DataFrame(rows), metrics=["train_accuracy", "test_accuracy"], params=["init", "rng"])
    assert len(table) == 1 and table["n"][0] == 5
    row = table.iloc[0]
    # He init trains circles well from any seed; the seeds still differ a little
    assert row["train_accuracy_mean"] > 0.9 and row["test_accuracy_mean"] > 0.85
    assert 0 < row["test_accuracy_std"] < 0.05
    print("\n5 seeds, course_init he, modern rng:", mean_std(row, "train_accuracy"), "/", mean_std(row, "test_accuracy"))


def test_compare_aggregate_groups_seeds_and_keeps_the_varying_params():
    from src.compare import aggregated_table

    runs = pd.DataFrame({
        "run_id": [f"r{i}" for i in range(4)],
        "params.lambd": ["0", "0", "0.7", "0.7"],
        "params.seed": ["1", "2", "1", "2"],
        "params.layers": "[20, 3]",
        "metrics.dev_accuracy": [0.80, 0.82, 0.90, 0.94],
        "metrics.test_accuracy": [0.7, 0.7, 0.8, 0.8],
    })
    table = aggregated_table(runs)
    assert list(table.columns) == ["lambd", "n", "dev_accuracy_mean", "dev_accuracy_std", "test_accuracy_mean", "test_accuracy_std"]
    assert list(table["lambd"]) == ["0.7", "0"]  # best mean dev accuracy first
    np.testing.assert_allclose(table["dev_accuracy_mean"], [0.92, 0.81])


@pytest.mark.slow
def test_multi_seed_sweep_then_compare_aggregate(tmp_path, monkeypatch, capsys):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from src import compare

    root = Path(__file__).resolve().parents[1]
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "MLFLOW_EXPERIMENT_NAME": "seeds", "PYTHONPATH": str(root)}
    proc = subprocess.run([sys.executable, "-m", "src.train", "-m", "experiment=multi_seed",
                           f"hydra.sweep.dir={tmp_path / 'multirun'}"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "seeds")
    compare.main(["--sweep", "latest", "--aggregate", "--out", str(tmp_path / "agg")])
    table = pd.read_csv(tmp_path / "agg.csv")
    assert len(table) == 1 and table["n"][0] == 5
    assert 0.8 < table["test_accuracy_mean"][0] <= 1 and table["test_accuracy_std"][0] > 0
