"""Bias / variance diagnosis of one run (course 2, week 1, "Bias / Variance").

    avoidable bias = train error - Bayes error    (how far from the best possible fit)
    variance       = dev error - train error      (how much worse on unseen data)

Each is "high" when it exceeds its threshold, 0.05 (5 percentage points) by
default: the notes' four cats (Bayes error ~0) read as they do in the lecture.

    train  dev   diagnosis       next step
     1%   11%    high variance   regularise / more data
    15%   16%    high bias       bigger network / train longer
    15%   30%    both            bias first (bigger network / train longer), then regularise / more data
   0.5%    1%    good            done
    and with a Bayes error of 15%, 15% / 16% is good.

``bayes_error`` is the root config key; the course uses human error ~0 as its
proxy. Football flips 10% of its labels, so its Bayes error is about 0.10.
"""
from __future__ import annotations

BIAS_THRESHOLD = 0.05
VARIANCE_THRESHOLD = 0.05

NEXT_STEPS = {
    "high bias": "bigger network / train longer / better optimizer",
    "high variance": "regularise / more data",
    "both": "fix bias first (bigger network / train longer), then regularise / more data",
    "good": "done: low bias and low variance",
}


def diagnose(
    train_error: float,
    dev_error: float,
    bayes_error: float = 0.0,
    bias_threshold: float = BIAS_THRESHOLD,
    variance_threshold: float = VARIANCE_THRESHOLD,
) -> dict:
    """{avoidable_bias, variance, diagnosis, next_step} from train and dev error (fractions)."""
    avoidable_bias = train_error - bayes_error
    variance = dev_error - train_error
    # Compared at 1e-9, so an error of 1 - 0.95 (0.05000000000000004) is not "above 0.05".
    high_bias = round(avoidable_bias, 9) > bias_threshold
    high_variance = round(variance, 9) > variance_threshold
    label = "both" if high_bias and high_variance else "high bias" if high_bias else "high variance" if high_variance else "good"
    return {"avoidable_bias": avoidable_bias, "variance": variance, "diagnosis": label, "next_step": NEXT_STEPS[label]}


def diagnose_accuracy(train_accuracy: float, dev_accuracy: float, bayes_error: float = 0.0, **thresholds) -> dict:
    """``diagnose`` from accuracies (error = 1 - accuracy), as the runs report them."""
    return diagnose(1.0 - train_accuracy, 1.0 - dev_accuracy, bayes_error, **thresholds)
