"""Every preset, launcher and callback composes through Hydra, as the CLI would."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from src.config import validate

CONF = Path(__file__).resolve().parents[1] / "conf"
PRESETS = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml"))
CONTRACT_KEYS = ("init", "lambd", "keep_prob", "learning_rate", "num_iterations", "layers", "seed", "rng", "normalize", "dataset")


@pytest.fixture
def compose_cfg():
    def _compose(*overrides: str, hydra: bool = False):
        with initialize_config_dir(str(CONF), version_base="1.3"):
            return compose("config", list(overrides), return_hydra_config=hydra)

    return _compose


def test_presets_found():
    assert {"course_init", "course_regularization", "sweep_regularization"} <= set(PRESETS)


@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_composes_and_validates(compose_cfg, preset):
    cfg = compose_cfg(f"experiment={preset}")
    for key in CONTRACT_KEYS:
        assert key in cfg, key
    assert cfg.tracking is True
    validate(cfg)


def test_course_presets_match_the_contract(compose_cfg):
    init = compose_cfg("experiment=course_init")
    assert (init.dataset.name, list(init.layers), init.learning_rate, init.num_iterations, init.seed, init.rng, init.normalize) == (
        "circles", [10, 5], 0.01, 15000, 3, "course", False)
    reg = compose_cfg("experiment=course_regularization", "dataset.path=x.mat")
    assert (reg.dataset.name, list(reg.layers), reg.init, reg.learning_rate, reg.num_iterations, reg.seed, reg.rng, reg.normalize) == (
        "mat", [20, 3], "xavier", 0.3, 30000, 3, "course", False)


def test_sweep_preset_sweeps_lambd_and_keep_prob(compose_cfg):
    cfg = compose_cfg("experiment=sweep_regularization", hydra=True)
    params = cfg.hydra.sweeper.params
    lambds = [float(v) for v in params.lambd.split(",")]
    keep_probs = [float(v) for v in params.keep_prob.split(",")]
    assert 0.0 in lambds and len(lambds) >= 3 and all(v >= 0 for v in lambds)
    assert 1.0 in keep_probs and len(keep_probs) >= 3 and all(0 < v <= 1 for v in keep_probs)
    assert cfg.dataset.name == "football"  # has a dev split to choose by


def test_hydra_settings(compose_cfg):
    cfg = compose_cfg(hydra=True)
    assert cfg.hydra.job.chdir is False
    assert cfg.hydra.launcher._target_ == "hydra_plugins.improving_dnn_launcher.forking_joblib_launcher.ForkingJoblibLauncher"
    assert cfg.hydra.launcher.n_jobs == -1  # every core
    assert compose_cfg("hydra/launcher=joblib", hydra=True).hydra.launcher._target_.endswith(".JoblibLauncher")
    assert cfg.hydra.callbacks.mlflow_sweep._target_ == "src.tracking.SweepCallback"
    sweep = OmegaConf.to_container(cfg.hydra.sweep, resolve=False)
    assert sweep["dir"].startswith("outputs/multirun/${now:%Y-%m-%d}/")
    assert sweep["subdir"] == "${hydra.job.num}"


def test_serial_launcher_and_tracking_off(compose_cfg):
    cfg = compose_cfg("hydra/launcher=basic", "tracking=false", hydra=True)
    assert cfg.hydra.launcher._target_.endswith("BasicLauncher")
    assert cfg.tracking is False


@pytest.mark.skipif(importlib.util.find_spec("hydra_plugins.hydra_ray_launcher") is None, reason="hydra-ray-launcher not installed (pip install -e '.[ray]')")
def test_ray_launcher_composes(compose_cfg):
    cfg = compose_cfg("hydra/launcher=ray_local", hydra=True)
    assert cfg.hydra.launcher._target_.endswith("RayLauncher")
    assert cfg.hydra.launcher.ray.init.num_cpus == 2
    assert cfg.hydra.launcher.ray.init.include_dashboard is False
    remote = compose_cfg("hydra/launcher=ray_local", "hydra.launcher.ray.init.address=ray://head:10001", hydra=True)
    assert remote.hydra.launcher.ray.init.address == "ray://head:10001"
