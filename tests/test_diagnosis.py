import pytest

from src.diagnosis import NEXT_STEPS, diagnose, diagnose_accuracy


@pytest.mark.parametrize(
    "train, dev, bayes, label",
    [
        (0.01, 0.11, 0.0, "high variance"),  # the notes' four cat classifiers
        (0.15, 0.16, 0.0, "high bias"),
        (0.15, 0.30, 0.0, "both"),
        (0.005, 0.01, 0.0, "good"),
        (0.15, 0.16, 0.15, "good"),  # "if the Bayes error were 15%, 15% / 16% would be fine"
    ],
)
def test_the_notes_examples(train, dev, bayes, label):
    found = diagnose(train, dev, bayes)
    assert found["diagnosis"] == label
    assert found["next_step"] == NEXT_STEPS[label]
    assert found["avoidable_bias"] == pytest.approx(train - bayes)
    assert found["variance"] == pytest.approx(dev - train)


def test_next_steps_follow_the_basic_recipe():
    assert "bigger network" in diagnose(0.15, 0.16)["next_step"]
    assert "regularise" in diagnose(0.01, 0.11)["next_step"] and "more data" in diagnose(0.01, 0.11)["next_step"]


def test_thresholds_and_accuracies():
    assert diagnose(0.03, 0.06)["diagnosis"] == "good"
    assert diagnose(0.03, 0.06, variance_threshold=0.02)["diagnosis"] == "high variance"
    assert diagnose_accuracy(0.99, 0.89)["diagnosis"] == "high variance"
    assert diagnose_accuracy(0.85, 0.84, bayes_error=0.15)["diagnosis"] == "good"
