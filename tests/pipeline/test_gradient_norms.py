import numpy as np
import pytest

from src import plots
from src.data.datasets import circles
from src.pipeline.gradient_norms import gradient_norms, summary


@pytest.fixture(scope="module")
def norms():
    data = circles()
    return gradient_norms(data.train.X, data.train.Y, depth=12, width=20, seed=0)


def test_one_norm_per_weight_matrix(norms):
    assert set(norms) == {"zeros", "random", "xavier", "he"}
    assert all(len(v) == 13 for v in norms.values())


def test_he_keeps_gradients_alive_xavier_vanishes_random_explodes_zeros_is_stuck(norms):
    he, xavier, random = (summary(norms)[k] for k in ("he", "xavier", "random"))
    assert np.all(norms["zeros"] == 0)
    # ReLU halves the signal's variance per layer under Xavier: ~2^-(L-1)/2 of He's over 12 layers
    assert xavier < he / 10
    assert random > 1e10 * he
    # He: every layer's gradient within a factor of 10 of the others
    assert norms["he"].max() / norms["he"].min() < 10


def test_plot(tmp_path, norms):
    plots.gradient_norms(norms, tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_prints_the_table_and_writes_the_figure(tmp_path, capsys):
    from src.pipeline.gradient_norms import main

    main(["--depth", "10", "--out", str(tmp_path / "g.png")])
    out = capsys.readouterr().out
    assert "| layer | zeros | random | xavier | he |" in out and "| 11 |" in out
    assert (tmp_path / "g.png").is_file()
