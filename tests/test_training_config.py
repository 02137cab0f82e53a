"""Issue 8's config keys: defaults, composition and validation (src/config.py)."""
import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from src.config import validate
from src.errors import InputError
from src.train import train

from .test_config_compose import CONF


def cfg(*overrides):
    with initialize_config_dir(str(CONF), version_base="1.3"):
        return compose("config", ["tracking=false", *overrides])


def test_defaults_are_the_course_behaviour():
    c = cfg()
    assert c.optimizer.name == "gd" and c.batch_size is None and c.lr_decay.schedule == "none"
    assert c.early_stopping.patience == 0 and c.augment.flip is None and c.augment.jitter == 0.0
    assert c.bayes_error == 0.0
    validate(c)


@pytest.mark.parametrize("name", ["gd", "momentum", "rmsprop", "adam"])
def test_every_optimizer_composes_validates_and_trains(name):
    c = cfg(f"optimizer={name}", "dataset=moons", "num_iterations=30", "batch_size=64", "lr_decay.schedule=inverse_time")
    validate(c)
    result = train(c)
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
        validate(cfg(f"optimizer={optimizer}", override))


def test_exponential_decay_needs_a_rate_in_0_1():
    with pytest.raises(InputError, match="exponential"):
        validate(cfg("lr_decay.schedule=exponential", "lr_decay.decay_rate=1.5"))
    validate(cfg("lr_decay.schedule=exponential", "lr_decay.decay_rate=0.95"))


def test_early_stopping_needs_a_dev_split():
    with pytest.raises(InputError, match="early_stopping.patience.*no dev split"):
        train(cfg("dataset=circles", "early_stopping.patience=100", "num_iterations=10"))


def test_configs_without_the_new_keys_still_validate():
    c = cfg()
    plain = OmegaConf.create({k: v for k, v in OmegaConf.to_container(c).items()
                              if k not in ("optimizer", "batch_size", "lr_decay", "early_stopping", "augment", "bayes_error")})
    validate(plain)


def test_run_result_carries_the_diagnosis():
    result = train(cfg("dataset=football", "num_iterations=200", "bayes_error=0.1", "early_stopping.patience=100"))
    assert result.tags["diagnosis"] in ("high bias", "high variance", "both", "good")
    assert result.tags["diagnosis_split"] == "dev" and result.tags["next_step"]
    assert result.metrics["avoidable_bias"] == pytest.approx(1 - result.metrics["train_accuracy"] - 0.1)
    assert result.metrics["variance"] == pytest.approx(result.metrics["train_accuracy"] - result.metrics["dev_accuracy"])
    assert result.metrics["stopped_early"] in (0.0, 1.0) and 0 <= result.metrics["best_iteration"] <= 200


@pytest.mark.parametrize("rng, second_epoch", [("course", 0.1), ("modern", 0.05)])
def test_decay_timing_follows_the_rng_mode(rng, second_epoch):
    """rng=course keeps week 2's timing (the rate is set after each epoch: epoch 1 still runs
    at lr0); rng=modern decays from epoch 1 on."""
    from src.data import load
    from src.randomness import make_randomness
    from src.train import training_options

    c = cfg("experiment=course_optimization", f"rng={rng}", "learning_rate=0.1",
            "lr_decay.schedule=inverse_time", "lr_decay.decay_rate=1")
    dataset = load("moons", n_train=20, n_dev=0, n_test=10)
    rates = training_options(c, dataset, make_randomness(rng, 3))["lr_schedule"]
    assert [rates(0), rates(1)] == [0.1, second_epoch]


def test_course_optimization_preset_is_week_2s_setup():
    c = cfg("experiment=course_optimization")
    assert (c.dataset.name, c.dataset.n_train, c.dataset.seed, c.dataset.noise) == ("moons", 300, 3, 0.2)
    assert (list(c.layers), c.init, c.batch_size, c.shuffle_seed, c.num_iterations, c.rng) == ([5, 2], "he", 64, 10, 5000, "course")
    assert (c.optimizer.name, c.learning_rate, c.cost_every) == ("gd", 0.0007, 1000)
    adam = cfg("experiment=course_optimization", "optimizer=adam")
    assert (adam.optimizer.beta1, adam.optimizer.beta2, adam.optimizer.epsilon) == (0.9, 0.999, 1e-8)
    assert cfg("experiment=course_optimization", "optimizer=momentum").optimizer.beta == 0.9


def test_course_training_set_is_the_notebooks_moons():
    from src.data import load
    import sklearn.datasets

    c = cfg("experiment=course_optimization")
    dataset = load(**OmegaConf.to_container(c.dataset))
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
        validate(cfg(f"shuffle_seed={value}"))
