"""The run configuration (src/config.py): every default in RunConfig, composed by Hydra
from it, presets and groups, validated once with errors that name the key."""
from __future__ import annotations

import dataclasses
import importlib.util

import numpy as np
import pytest
from omegaconf import OmegaConf

from src.config import CONF_DIR, RunConfig, compose
from src.errors import InputError
from src.nn.batchnorm import EPSILON, MOMENTUM
from src.nn.optimizers import OPTIMIZERS
from src.recipe import train

CONF = CONF_DIR
PRESETS = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml"))
CONTRACT_KEYS = ("init", "lambd", "keep_prob", "learning_rate", "num_iterations", "layers", "seed", "rng", "normalize", "dataset")


@pytest.fixture
def compose_cfg():
    def _compose(*overrides: str, hydra: bool = False):
        from hydra import compose as hydra_compose, initialize_config_dir

        with initialize_config_dir(str(CONF), version_base="1.3"):
            return hydra_compose("config", list(overrides), return_hydra_config=hydra)

    return _compose


def cfg(*overrides):
    return compose(["tracking=false", *overrides])


def test_every_default_lives_in_run_config():
    """conf/config.yaml states no root key's value: Hydra's defaults are RunConfig's."""
    text = (CONF / "config.yaml").read_text()
    for f in dataclasses.fields(RunConfig):
        assert not any(line.startswith(f"{f.name}:") for line in text.splitlines()), f.name
    composed = RunConfig.parse(cfg())
    assert composed == RunConfig(tracking=False)
    assert (composed.bn_momentum, composed.bn_epsilon) == (MOMENTUM, EPSILON)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_the_optimizer_group_is_the_update_rules_own_defaults(name):
    c = cfg(f"optimizer={name}")
    assert RunConfig.parse(c).optimizer.hyper == OPTIMIZERS[name].hyper
    assert dict(c.optimizer) == {"name": name, **OPTIMIZERS[name].hyper}


def test_parsed_config_is_frozen_and_typed():
    run = RunConfig.parse(cfg("lambd=0", "layers=[20,3]"))
    assert run.lambd == 0.0 and isinstance(run.lambd, float) and run.layers == (20, 3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.lambd = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        run.dataset["name"] = "x"  # type: ignore[index]
    assert run.to_dict()["layers"] == [20, 3] and run.to_yaml().startswith("init: he\n")


def test_presets_found():
    assert {"course_init", "course_regularization", "sweep_regularization"} <= set(PRESETS)


@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_composes_and_validates(compose_cfg, preset):
    cfg = compose_cfg(f"experiment={preset}")
    # src/cli.py reads hydra.mode from the command line alone: no config of ours sets it
    assert compose_cfg(f"experiment={preset}", hydra=True).hydra.mode is None
    for key in CONTRACT_KEYS:
        assert key in cfg, key
    assert cfg.tracking is True
    RunConfig.parse(cfg)


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
    assert cfg.hydra.mode is None  # src/cli.py reads it from the command line alone
    assert cfg.hydra.job.chdir is False
    assert cfg.hydra.launcher._target_ == "hydra_plugins.improving_dnn_launcher.forking_joblib_launcher.ForkingJoblibLauncher"
    assert cfg.hydra.launcher.n_jobs == -1  # every core
    assert compose_cfg("hydra/launcher=joblib", hydra=True).hydra.launcher._target_.endswith(".JoblibLauncher")
    assert cfg.hydra.callbacks.mlflow_sweep._target_ == "src.tracking.sweep.SweepCallback"
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


@pytest.mark.parametrize("name", ["gd", "momentum", "rmsprop", "adam"])
def test_every_optimizer_composes_validates_and_trains(name):
    c = cfg(f"optimizer={name}", "dataset=moons", "num_iterations=30", "batch_size=64", "lr_decay.schedule=inverse_time")
    result = train(RunConfig.parse(c))
    assert 0.0 <= result.metrics["train_accuracy"] <= 1.0


@pytest.mark.parametrize(
    "override, key",
    [
        ("optimizer.beta=1.0", "optimizer.beta"),
        ("optimizer.beta1=-0.1", "optimizer.beta1"),
        ("optimizer.epsilon=0", "optimizer.epsilon"),
        ("+optimizer.beta3=0.5", "optimizer.beta3"),
        ("optimizer.name=sgd", "optimizer"),
        ("batch_size=0", "batch_size"),
        ("batch_size=1.5", "batch_size"),
        ("lr_decay.schedule=cosine", "lr_decay.schedule"),
        ("lr_decay.decay_rate=-1", "lr_decay.decay_rate"),
        ("lr_decay.interval=0", "lr_decay.interval"),
        ("early_stopping.patience=-1", "early_stopping.patience"),
        ("early_stopping.min_delta=-0.1", "early_stopping.min_delta"),
        ("early_stopping.every=0", "early_stopping.every"),
        ("early_stopping.metric=accuracy", "early_stopping.metric"),
        ("augment.flip=z", "augment.flip"),
        ("augment.jitter=-1", "augment.jitter"),
        ("augment.copies=0", "augment.copies"),
        ("bayes_error=1.5", "bayes_error"),
        ("bayes_error=abc", "bayes_error"),
    ],
)
def test_bad_values_name_the_key(override, key):
    optimizer = "adam" if "beta1" in override or "epsilon" in override else "momentum"
    with pytest.raises(InputError, match=rf"^{key}:"):
        RunConfig.parse(cfg(f"optimizer={optimizer}", override))


def test_exponential_decay_needs_a_rate_in_0_1():
    with pytest.raises(InputError, match="exponential"):
        RunConfig.parse(cfg("lr_decay.schedule=exponential", "lr_decay.decay_rate=1.5"))
    RunConfig.parse(cfg("lr_decay.schedule=exponential", "lr_decay.decay_rate=0.95"))


def test_early_stopping_needs_a_dev_split():
    with pytest.raises(InputError, match="early_stopping.patience.*no dev split"):
        train(RunConfig.parse(cfg("dataset=circles", "early_stopping.patience=100", "num_iterations=10")))


def test_a_config_without_the_newer_keys_takes_their_defaults():
    """An older run's config.yaml (before optimizers, decay, ...) still parses: every key
    it lacks takes RunConfig's default."""
    c = cfg()
    plain = OmegaConf.create({k: v for k, v in OmegaConf.to_container(c).items()
                              if k not in ("optimizer", "batch_size", "lr_decay", "early_stopping", "augment", "bayes_error")})
    parsed = RunConfig.parse(plain)
    assert parsed == RunConfig.parse(c)
    assert parsed.optimizer.name == "gd" and parsed.lr_decay == RunConfig().lr_decay


def test_run_result_carries_the_diagnosis():
    result = train(RunConfig.parse(cfg("dataset=football", "num_iterations=200", "bayes_error=0.1", "early_stopping.patience=100")))
    assert result.tags["diagnosis"] in ("high bias", "high variance", "both", "good")
    assert result.tags["diagnosis_split"] == "dev" and result.tags["next_step"]
    assert result.metrics["avoidable_bias"] == pytest.approx(1 - result.metrics["train_accuracy"] - 0.1)
    assert result.metrics["variance"] == pytest.approx(result.metrics["train_accuracy"] - result.metrics["dev_accuracy"])
    assert result.metrics["stopped_early"] in (0.0, 1.0) and 0 <= result.metrics["best_iteration"] <= 200


def test_course_optimization_preset_is_week_2s_setup():
    c = cfg("experiment=course_optimization")
    assert (c.dataset.name, c.dataset.n_train, c.dataset.seed, c.dataset.noise) == ("moons", 300, 3, 0.2)
    assert (list(c.layers), c.init, c.batch_size, c.shuffle_seed, c.num_iterations, c.rng) == ([5, 2], "he", 64, 10, 5000, "course")
    assert (c.optimizer.name, c.learning_rate, c.cost_every) == ("gd", 0.0007, 1000)
    adam = cfg("experiment=course_optimization", "optimizer=adam")
    assert (adam.optimizer.beta1, adam.optimizer.beta2, adam.optimizer.epsilon) == (0.9, 0.999, 1e-8)
    assert cfg("experiment=course_optimization", "optimizer=momentum").optimizer.beta == 0.9


def test_course_training_set_is_the_notebooks_moons():
    from src.data.datasets import load
    import sklearn.datasets

    c = cfg("experiment=course_optimization")
    dataset = load(**OmegaConf.to_container(c.dataset))  # the preset's own dataset keys
    state = np.random.get_state()
    try:
        np.random.seed(3)
        X, y = sklearn.datasets.make_moons(n_samples=300, noise=.2)
    finally:
        np.random.set_state(state)
    assert np.array_equal(dataset.train.X, X.T) and np.array_equal(dataset.train.Y, y.reshape(1, -1))
    assert "dev" not in dataset.splits and dataset.test.X.shape == (2, 300)


@pytest.mark.parametrize("value", [-1, 1.5, "x"])
def test_shuffle_seed_is_checked(value):
    with pytest.raises(InputError, match="shuffle_seed"):
        RunConfig.parse(cfg(f"shuffle_seed={value}"))
