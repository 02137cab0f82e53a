import pytest

from src.nn.schedules import SCHEDULES, learning_rates


def test_none_keeps_the_rate():
    assert [learning_rates("none", 0.3)(e) for e in (0, 1, 10_000)] == [0.3, 0.3, 0.3]


def test_inverse_time_is_the_notes_formula():
    # the assignment's update_lr(0.5, epoch_num=2, decay_rate=1) = 0.5 / 3
    assert SCHEDULES["inverse_time"](0.5, 2, 1.0) == pytest.approx(0.16666666666666666)
    rate = learning_rates("inverse_time", 0.2, decay_rate=1.0)
    assert [rate(e) for e in (0, 1, 3)] == pytest.approx([0.2, 0.1, 0.05])


def test_exponential_is_decay_rate_to_the_epoch():
    rate = learning_rates("exponential", 0.2, decay_rate=0.95)
    assert rate(0) == 0.2
    assert rate(10) == pytest.approx(0.2 * 0.95**10)


def test_staircase_is_the_assignments_fixed_interval_schedule():
    # schedule_lr_decay(0.5, epoch_num=100, decay_rate=0.3, time_interval=100) = 0.5 / 1.3
    assert SCHEDULES["staircase"](0.5, 100, 0.3, 100) == pytest.approx(0.38461538461538464)
    rate = learning_rates("staircase", 0.5, decay_rate=1.0, interval=1000)
    assert rate(0) == rate(999) == 0.5
    assert rate(1000) == rate(1999) == 0.25


def test_every_schedule_starts_at_the_initial_rate_and_never_grows():
    for name in SCHEDULES:
        rate = learning_rates(name, 0.1, decay_rate=0.5, interval=3)
        values = [rate(e) for e in range(20)]
        assert values[0] == 0.1, name
        assert all(b <= a for a, b in zip(values, values[1:])), name
