"""Multi-class data (digits, spiral), their config, and softmax / batch norm end to end."""
from __future__ import annotations

import numpy as np
import pytest

from src.config import compose as compose_config
from src.config import run_config
from src.data import datasets
from src.errors import InputError
from src.nn import model
from src.recipe import train


def compose(overrides=()):
    """The run ``python -m src.train tracking=false OVERRIDES`` trains."""
    return run_config(["tracking=false", *overrides])


def test_digits_is_sklearns_bundled_set_split_three_ways():
    d = datasets.load("digits")
    assert [d.splits[s].X.shape for s in datasets.SPLITS] == [(64, 1077), (64, 360), (64, 360)]
    assert all(s.Y.shape == (1, s.X.shape[1]) and s.Y.dtype == np.int64 for s in d.splits.values())
    assert datasets.num_classes(d) == 10
    assert set(np.unique(d.train.Y)) == set(range(10))
    # Disjoint splits that together are the whole set, deterministic for a seed.
    columns = np.hstack([s.X for s in d.splits.values()])
    assert columns.shape[1] == 1797 and np.unique(columns.T, axis=0).shape[0] == np.unique(
        __import__("sklearn.datasets").datasets.load_digits().data, axis=0).shape[0]
    np.testing.assert_array_equal(datasets.load("digits").test.X, d.test.X)
    assert not np.array_equal(datasets.load("digits", seed=1).test.X, d.test.X)


def test_spiral_has_three_balanced_arms():
    d = datasets.load("spiral")
    assert d.train.X.shape == (2, 300) and datasets.num_classes(d) == 3
    counts = np.bincount(np.hstack([s.Y for s in d.splits.values()]).ravel())
    np.testing.assert_array_equal(counts, [200, 200, 200])


def test_multiclass_labels_are_validated_binary_sets_keep_their_check(tmp_path):
    X = np.zeros((2, 4))
    assert datasets._checked(X, [0, 3, 1, 2], "f", multiclass=True).Y.tolist() == [[0, 3, 1, 2]]
    for bad in ([0, -1, 1, 2], [0, 1.5, 1, 2], [0, np.nan, 1, 2]):
        with pytest.raises(InputError, match="class ids"):
            datasets._checked(X, bad, "f", multiclass=True)
    with pytest.raises(InputError, match="labels must be 0 or 1"):
        datasets._checked(X, [0, 2, 1, 1], "f")
    split = datasets.Split(np.zeros((2, 3)), np.array([[0, 1, 2]]))
    with pytest.raises(InputError, match="test labels must be 0..2"):
        datasets.num_classes(datasets.Dataset("x", {"train": split, "test": datasets.Split(np.zeros((2, 1)), np.array([[3]]))}))
    # A saved digits set loads back with dataset.multiclass=true, and only then.
    datasets.save_npz(datasets.load("digits"), tmp_path / "digits.npz")
    assert datasets.num_classes(datasets.load("npz", path=str(tmp_path / "digits.npz"), multiclass=True)) == 10
    with pytest.raises(InputError, match="labels must be 0 or 1"):
        datasets.load("npz", path=str(tmp_path / "digits.npz"))


@pytest.mark.parametrize(
    "override, key",
    [
        ("output=tanh", "output"),
        ("batch_norm=yes", "batch_norm"),
        ("bn_momentum=1.0", "bn_momentum"),
        ("bn_momentum=-0.1", "bn_momentum"),
        ("bn_epsilon=0", "bn_epsilon"),
        ("bn_epsilon=nan", "bn_epsilon"),
    ],
)
def test_new_keys_are_validated_naming_the_key(override, key):
    with pytest.raises(InputError, match=f"^{key}:"):
        compose([override])


def test_sigmoid_output_on_ten_classes_is_refused():
    with pytest.raises(InputError, match="^output: sigmoid needs 2 classes"):
        train(compose(["dataset=digits", "output=sigmoid", "num_iterations=1"]))


def test_output_size_follows_the_classes():
    assert model.output_units(2) == 1 and model.output_units(2, "softmax") == 2 and model.output_units(10) == 10
    small = ["layers=[8]", "num_iterations=2"]
    assert train(compose(["dataset=digits", *small])).params["W2"].shape == (10, 8)
    assert train(compose(["dataset=moons", *small])).params["W2"].shape == (1, 8)
    assert train(compose(["dataset=moons", "output=softmax", *small])).params["W2"].shape == (2, 8)


def test_binary_defaults_are_unchanged_by_the_new_keys():
    """The new keys at their defaults give the very same run as before (course figures)."""
    course = ["experiment=course_init", "init=he", "num_iterations=300"]
    a = train(compose(course))
    b = train(compose([*course, "output=auto", "batch_norm=false"]))
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name])
    assert set(a.params) == {"W1", "b1", "W2", "b2", "W3", "b3"}


def test_digits_with_batch_norm_reaches_95_percent(tmp_path):
    result = train(compose([
        "dataset=digits", "layers=[64,32]", "batch_norm=true", "learning_rate=0.5", "num_iterations=600",
        f"out_dir={tmp_path}",
    ]))
    assert result.metrics["test_accuracy"] >= 0.95
    assert result.metrics["train_accuracy"] > 0.99
    assert {"gamma1", "beta1", "running_mean1", "running_var1", "bn_epsilon"} <= set(result.params)
    assert "b1" not in result.params
    counts = model.confusion_matrix(result.dataset.test.X, result.dataset.test.Y, result.params)
    assert counts.shape == (10, 10) and counts.sum() == 360
    assert np.trace(counts) / 360 == pytest.approx(result.metrics["test_accuracy"])


def test_spiral_boundary_plots_the_argmax_classes(tmp_path):
    from src import artifacts, plots

    cfg = compose(["dataset=spiral", "layers=[30,30]", "learning_rate=0.5", "num_iterations=1500", "batch_norm=true"])
    result = train(cfg)
    assert result.metrics["dev_accuracy"] > 0.9
    artifacts.write(result, cfg, tmp_path)
    assert (tmp_path / "boundary.png").stat().st_size > 1000
    plots.confusion_matrix(model.confusion_matrix(result.dataset.test.X, result.dataset.test.Y, result.params), tmp_path / "c.png")
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"


def test_gradcheck_cli_checks_softmax_and_batch_norm_models():
    from src.config import RunConfig
    from src.gradcheck import Options, gradcheck, to_text

    def check(*overrides):
        cfg = compose_config(["dataset=digits", "layers=[8,6]", "batch_norm=true", "lambd=0.2", *overrides], "gradcheck")
        run = RunConfig.parse(cfg)
        return gradcheck(run, Options.parse(cfg, run))

    for result in check("gradcheck.train_iterations=20", "learning_rate=0.3").values():
        assert result.verdict == "pass", to_text(result)
        assert {"gamma1", "beta2", "W3", "b3"} <= set(result.per_param) and "b1" not in result.per_param
    assert check("gradcheck.inject=beta2")["init"].flagged == ["beta2"]


def test_report_digits_section_reads_the_summary():
    from src.pipeline.report import digits_section

    check = {"difference": 3e-8, "verdict": "pass", "why": "difference 3e-08 < threshold 2e-07",
             "per_param": {"W1": 3e-8, "gamma1": 1e-8}}
    trained = {**check, "difference": 4e-6, "verdict": "rounding", "why": "largest entry gap 1e-10 within"}
    variant = {"batch_norm": True, "lambd": 0.0, "keep_prob": 1.0, "train_accuracy": 1.0, "dev_accuracy": 0.97,
               "test_accuracy": 0.9778, "final_cost": 0.001}
    summary = {"variants": {"batchnorm": variant}, "gradcheck": {"batchnorm": {"init": check, "trained": trained}},
               "best": "batchnorm", "confusion_matrix": [[1]],
               "settings": {"layers": [64, 64], "learning_rate": 0.5, "num_iterations": 1000, "seed": 3}}
    text = "\n".join(digits_section(summary))
    assert "Best on dev: **batchnorm**, test accuracy **0.9778**" in text
    assert "digits/confusion.png" in text and "| pass " in text and "| rounding " in text
    assert "1 passed, 1 inconclusive (rounding), 0 failed" in text
