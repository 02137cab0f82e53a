"""Learning-rate decay (course 2, week 2): the rate for epoch ``epoch`` (from 0).

    none          lr0
    inverse_time  lr0 / (1 + decay_rate * epoch)                 the notes' 1/(1 + decay_rate * epoch_num)
    exponential   lr0 * decay_rate ** epoch                      the notes' 0.95^epoch_num, 0 < decay_rate <= 1
    staircase     lr0 / (1 + decay_rate * floor(epoch / interval))  the assignment's schedule_lr_decay
                  (time_interval = ``interval``): constant steps instead of a decay every epoch

An epoch is one pass over the training set; with full-batch training it is one iteration.
"""
from __future__ import annotations

from typing import Callable


def none(lr0: float, epoch: int, decay_rate: float = 0.0, interval: int = 1) -> float:
    return lr0


def inverse_time(lr0: float, epoch: int, decay_rate: float, interval: int = 1) -> float:
    return lr0 / (1 + decay_rate * epoch)


def exponential(lr0: float, epoch: int, decay_rate: float, interval: int = 1) -> float:
    return lr0 * decay_rate**epoch


def staircase(lr0: float, epoch: int, decay_rate: float, interval: int = 1000) -> float:
    return lr0 / (1 + decay_rate * (epoch // interval))


Schedule = Callable[[float, int, float, int], float]
SCHEDULES: dict[str, Schedule] = {
    "none": none,
    "inverse_time": inverse_time,
    "exponential": exponential,
    "staircase": staircase,
}


def learning_rates(
    name: str, lr0: float, decay_rate: float = 0.0, interval: int = 1, *, set_after_epoch: bool = False
) -> Callable[[int], float]:
    """epoch -> learning rate, for ``fit``.

    ``set_after_epoch``: the course's timing. Its model() sets the rate at the end
    of epoch e from e's index, so epoch 0 runs at lr0 and epoch e >= 1 at the
    schedule of e - 1 (every schedule gives lr0 at 0, hence max(e - 1, 0)).
    Otherwise epoch e runs at the schedule of e.
    """
    schedule = SCHEDULES[name]
    if set_after_epoch:
        return lambda epoch: schedule(lr0, max(epoch - 1, 0), decay_rate, interval)
    return lambda epoch: schedule(lr0, epoch, decay_rate, interval)
