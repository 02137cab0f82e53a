"""Stage ``normalize``: the standardised splits and the training statistics, on disk."""
from __future__ import annotations

import json

import numpy as np
import pytest

from src.data import standardize as normalize
from src.data.datasets import load_npz, save_npz
from src.pipeline import normalize as stage
from tests.data.test_standardize import shifted_dataset


def test_stage_main_writes_the_splits_and_the_train_stats(tmp_path):
    raw = shifted_dataset()
    save_npz(raw, tmp_path / "raw.npz")
    stage.main([str(tmp_path / "raw.npz"), str(tmp_path / "out.npz"), str(tmp_path / "stats.json")])
    written = load_npz(tmp_path / "out.npz")
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["fitted_on"] == "train" and stats["m_train"] == 50
    np.testing.assert_allclose(stats["mean"], raw.train.X.mean(axis=1))
    np.testing.assert_allclose(stats["std"], raw.train.X.std(axis=1))
    expected = normalize.Stats.from_dict(stats)
    for name in ("train", "dev", "test"):
        np.testing.assert_allclose(written.splits[name].X, normalize.apply(raw.splits[name].X, expected))


def test_stage_main_rejects_a_missing_file(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        stage.main([str(tmp_path / "nope.npz"), str(tmp_path / "out.npz"), str(tmp_path / "stats.json")])
    assert exit_.value.code == 1
    assert "nope.npz" in capsys.readouterr().err
    assert not (tmp_path / "out.npz").exists()
