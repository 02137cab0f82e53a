"""The run recipe (src/recipe.py): data, starting weights, training split, kernel choice."""
import numpy as np
import pytest

from src import recipe
from src.config import run_config
from src.nn.fit import fit
from src.randomness import ModernRandomness, make_randomness

RTOL = 1e-10  # compiled vs numpy kernel: ~1e-13 measured


def cfg(*overrides):
    return run_config(["tracking=false", "dataset=moons", "num_iterations=200", *overrides])


def _engine(c):
    return recipe.fit_options(c, recipe.load_dataset(c), ModernRandomness(0))["engine"]


def test_picks_compiled_for_long_modern_runs_and_numpy_for_course():
    assert _engine(cfg("rng=modern", "num_iterations=20000")) == "compiled"
    # a short run would not repay numba's start-up in a fresh process
    assert _engine(cfg("rng=modern", "num_iterations=19999")) == "numpy"
    assert _engine(cfg("rng=course", "num_iterations=20000")) == "numpy"
    assert _engine(cfg("rng=modern", "engine=numpy")) == "numpy"
    assert _engine(cfg("rng=modern", "engine=compiled")) == "compiled"


def test_course_mode_keeps_the_reference_loops_bits_end_to_end():
    c = cfg("rng=course", "keep_prob=0.8", "lambd=0.1")
    result = recipe.train(c)
    # the reference loop, which the numpy kernel equals bit for bit (tests/nn/kernels/)
    dataset = recipe.load_dataset(c)
    randomness = make_randomness("course", c.seed)
    split = recipe.training_split(c, dataset)
    expected = fit(recipe.initial_params(c, dataset, randomness), split.X, split.Y,
                   learning_rate=c.learning_rate, num_iterations=c.num_iterations, lambd=c.lambd,
                   keep_prob=c.keep_prob, draw_masks=randomness.dropout_masks, cost_every=c.cost_every)
    assert all(result.params[k].tobytes() == expected.params[k].tobytes() for k in expected.params)
    assert result.costs == expected.costs


def test_modern_mode_end_to_end_equals_the_numpy_engine():
    compiled = recipe.train(cfg("keep_prob=0.8", "lambd=0.1", "engine=compiled"))
    numpy_run = recipe.train(cfg("keep_prob=0.8", "lambd=0.1", "engine=numpy"))
    for name in numpy_run.params:
        np.testing.assert_allclose(compiled.params[name], numpy_run.params[name], rtol=RTOL, atol=1e-13)
    assert compiled.metrics["train_accuracy"] == numpy_run.metrics["train_accuracy"]


def test_course_seeding_on_the_compiled_kernel_keeps_the_published_accuracy():
    # An explicit opt-in: the course's seeds and masks, compiled arithmetic (not the course's bits).
    c = run_config(["experiment=course_init", "init=he", "engine=compiled", "tracking=false"])
    assert _engine(c) == "compiled"
    metrics = recipe.train(c).metrics
    assert (round(metrics["train_accuracy"], 4), round(metrics["test_accuracy"], 4)) == (0.9933, 0.96)


def test_initial_params_are_the_weights_training_started_from():
    c = cfg("init=xavier", "layers=[4,3]")
    result = recipe.train(c)
    again = recipe.initial_params(c, recipe.load_dataset(c))  # a fresh draw from the run's own randomness
    assert all(np.array_equal(result.initial_params[k], again[k]) for k in again)
    assert [again[f"W{l}"].shape for l in (1, 2, 3)] == [(4, 2), (3, 4), (1, 3)]


@pytest.mark.parametrize("rng, second_epoch", [("course", 0.1), ("modern", 0.05)])
def test_decay_timing_follows_the_rng_mode(rng, second_epoch):
    """rng=course keeps week 2's timing (the rate is set after each epoch: epoch 1 still runs
    at lr0); rng=modern decays from epoch 1 on."""
    c = run_config(["experiment=course_optimization", f"rng={rng}", "learning_rate=0.1",
                    "lr_decay.schedule=inverse_time", "lr_decay.decay_rate=1", "dataset.n_train=20", "dataset.n_test=10"])
    rates = recipe.fit_options(c, recipe.load_dataset(c), make_randomness(rng, 3))["lr_schedule"]
    assert [rates(0), rates(1)] == [0.1, second_epoch]


def test_gradient_check_of_a_run_uses_its_l2_and_passes_at_init():
    c = cfg("lambd=0.7", "keep_prob=0.5")
    dataset = recipe.load_dataset(c)
    check = recipe.gradient_check(c, recipe.initial_params(c, dataset), dataset.train, max_examples=30)
    assert check.verdict == "pass" and check.passed
    planted = recipe.gradient_check(c, recipe.initial_params(c, dataset), dataset.train, 30, inject="W1")
    assert planted.verdict == "fail" and planted.flagged == ["W1"]


def test_the_diagnosis_uses_the_datasets_own_bayes_error_unless_set():
    """One source: football's generator knows its labels are 10% coin flips; the run's
    diagnosis uses that floor unless bayes_error is given, and says which it used."""
    football = recipe.train(run_config(["dataset=football", "num_iterations=300"]))
    assert football.dataset.bayes_error == 0.1 and football.tags["bayes_error"] == "0.1"
    assert football.metrics["avoidable_bias"] == pytest.approx(1 - football.metrics["train_accuracy"] - 0.1)
    mine = recipe.train(run_config(["dataset=football", "num_iterations=300", "bayes_error=0.02"]))
    assert mine.tags["bayes_error"] == "0.02"
    assert recipe.train(cfg()).tags["bayes_error"] == "0.0"  # moons: no label noise
