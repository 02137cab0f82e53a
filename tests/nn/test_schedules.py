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


# The week-2 notebook's published test vectors (update_lr_test, schedule_lr_decay_test).
@pytest.mark.parametrize("lr0, epoch, rate, interval, expected", [
    (0.5, 100, 1, 100, 0.25), (0.5, 10, 1, 100, 0.5), (0.3, 1000, 0.25, 100, 0.085714285),
    (0.3, 100, 0.25, 100, 0.24), (0.5, 10, 0.3, 100, 0.5), (0.5, 100, 0.3, 100, 0.3846153846153846),
])
def test_staircase_gives_the_assignments_schedule_lr_decay(lr0, epoch, rate, interval, expected):
    assert SCHEDULES["staircase"](lr0, epoch, rate, interval) == pytest.approx(expected, abs=1e-9)


def test_inverse_time_gives_the_assignments_update_lr():
    assert SCHEDULES["inverse_time"](0.5, 2, 1) == 0.16666666666666666


def test_the_course_sets_the_rate_after_each_epoch():
    # model(): `learning_rate = decay(learning_rate0, i, decay_rate)` at the end of epoch i,
    # so epoch 0 runs at lr0 and epoch e >= 1 at decay(lr0, e - 1).
    course = learning_rates("inverse_time", 0.1, decay_rate=1.0, set_after_epoch=True)
    assert [course(e) for e in range(4)] == [0.1, 0.1, 0.1 / 2, 0.1 / 3]
    staircase = learning_rates("staircase", 0.1, decay_rate=1.0, interval=1000, set_after_epoch=True)
    assert staircase(1000) == 0.1 and staircase(1001) == 0.05


def test_by_default_epoch_e_runs_at_its_own_rate():
    modern = learning_rates("inverse_time", 0.1, decay_rate=1.0)
    assert [modern(e) for e in range(4)] == [0.1, 0.1 / 2, 0.1 / 3, 0.1 / 4]
    assert learning_rates("staircase", 0.1, decay_rate=1.0, interval=1000)(1000) == 0.05
