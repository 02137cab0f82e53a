"""Issue 8's config keys: defaults, composition and validation (src/config.py)."""
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
