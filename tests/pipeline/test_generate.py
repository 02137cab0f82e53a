"""The pipeline's datasets: seeded, deterministic, course layout, balanced, no pickles."""
from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml

from src.data import datasets
from src.errors import InputError
from src.pipeline import generate as stage

ROOT = Path(__file__).resolve().parents[2]
PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", sorted(stage.GENERATORS))
def test_generated_files_are_byte_identical_across_runs(tmp_path, name):
    options = stage.settings(name)
    datasets.save_npz(stage.generate(name, options), tmp_path / "a.npz")
    datasets.save_npz(stage.generate(name, options), tmp_path / "b.npz")
    assert digest(tmp_path / "a.npz") == digest(tmp_path / "b.npz")


@pytest.mark.parametrize("name", sorted(stage.GENERATORS))
def test_course_layout_and_labels(name):
    dataset = stage.generate(name, stage.settings(name))
    for split in dataset.splits.values():
        n_x, m = split.X.shape
        assert n_x == 2 and split.Y.shape == (1, m)
        assert split.X.dtype == np.float64 and np.all(np.isfinite(split.X))
        assert set(np.unique(split.Y)) <= {0, 1}


def test_split_sizes():
    football = stage.generate("football", stage.settings("football"))
    p = stage.settings("football")
    assert [s.X.shape[1] for s in football.splits.values()] == [p["n_train"], p["n_dev"], p["n_test"]]
    circles = stage.generate("circles", {})
    assert {k: s.X.shape[1] for k, s in circles.splits.items()} == {"train": 300, "test": 100}


def test_circles_are_the_course_draws():
    import sklearn.datasets

    np.random.seed(1)
    X, y = sklearn.datasets.make_circles(300, noise=0.05)
    circles = datasets.circles()
    np.testing.assert_array_equal(circles.train.X, X.T)
    np.testing.assert_array_equal(circles.train.Y, y.reshape(1, -1))


@pytest.mark.parametrize("name", ["football", "moons", "circles"])
def test_classes_are_balanced(name):
    dataset = stage.generate(name, stage.settings(name))
    for split in dataset.splits.values():
        assert 0.4 <= split.Y.mean() <= 0.6


def test_football_balance_holds_for_other_seeds():
    for seed in range(5):
        football = datasets.football(seed=seed)
        everything = np.concatenate([s.Y for s in football.splits.values()], axis=1)
        assert 0.42 <= everything.mean() <= 0.58


def test_football_seed_matters_and_is_private():
    state = np.random.get_state()
    a, b = datasets.football(seed=0), datasets.football(seed=1)
    assert not np.array_equal(a.train.X, b.train.X)
    # numpy's global generator is left alone
    np.testing.assert_array_equal(np.random.get_state()[1], state[1])


def test_saved_npz_has_no_pickles(tmp_path):
    path = tmp_path / "football.npz"
    datasets.save_npz(stage.generate("football", stage.settings("football")), path)
    with np.load(path, allow_pickle=False) as f:  # would raise on an object array
        arrays = {k: f[k] for k in f.files}
    assert sorted(arrays) == ["X_dev", "X_test", "X_train", "Y_dev", "Y_test", "Y_train", "bayes_error"]
    assert all(a.dtype != object for a in arrays.values())
    # football's label noise is its Bayes error, carried by the file into every run on it
    assert arrays["bayes_error"] == stage.settings("football")["label_noise"]
    assert datasets.load_npz(path).bayes_error == 0.1
    with zipfile.ZipFile(path) as archive:
        assert all(name.endswith(".npy") for name in archive.namelist())


def test_generate_rejects_an_unknown_option():
    with pytest.raises(InputError, match="generate.football: unknown option"):
        stage.generate("football", {"n_trian": 10})
    with pytest.raises(InputError, match="unknown dataset"):
        stage.generate("digits", {})


def test_generate_parses_dvc_dict_unpacking():
    assert stage.parse_options(["--n_train", "100", "--noise", "0.2", "--seed", "0"]) == {"n_train": 100, "noise": 0.2, "seed": 0}
    with pytest.raises(InputError):
        stage.parse_options(["n_train", "100"])


def test_generate_main_writes_the_file(tmp_path, capsys):
    stage.main(["football", str(tmp_path / "f.npz"), "--n_train", "40", "--n_dev", "20", "--n_test", "20"])
    assert datasets.load_npz(tmp_path / "f.npz").train.X.shape == (2, 40)
    assert "football" in capsys.readouterr().out


def test_the_generated_file_is_what_the_train_cli_trains_on(tmp_path):
    """One source for a dataset's settings: conf/dataset/NAME.yaml, read by the stage and by
    `python -m src.train dataset=NAME` alike."""
    from src.config import run_config
    from src.recipe import load_dataset

    for name in ("football", "moons"):
        generated = stage.generate(name, stage.settings(name))
        trained_on = load_dataset(run_config([f"dataset={name}", "normalize=false"]))
        assert generated.digest() == trained_on.digest() and generated.bayes_error == trained_on.bayes_error
    assert stage.settings("moons") == {"n_train": 300, "n_dev": 200, "n_test": 200, "noise": 0.2, "seed": 0}  # null dropped


def test_every_pipeline_dataset_has_a_generator():
    assert set(PARAMS["datasets"]) <= set(stage.GENERATORS)
    assert all((ROOT / "conf" / "dataset" / f"{name}.yaml").is_file() for name in PARAMS["datasets"])


def test_the_course_data_ships_with_the_project():
    """data/course/data.mat: the Regularization assignment's 211 training and 200 test points."""
    path = ROOT / "data" / "course" / "data.mat"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == "1218828095bf91d215622d00b2a5b8784c359e29d9d9c5734949b8e60c5bc231"
    dataset = datasets.load_mat(str(path))
    assert dataset.train.X.shape == (2, 211) and dataset.test.X.shape == (2, 200)
    assert "dataset.path=data/course/data.mat" in (ROOT / "dvc.yaml").read_text()
