"""The network core's one error: training that diverged (the CLIs report it in one line)."""
from __future__ import annotations


class DivergedError(ArithmeticError):
    """The cost became NaN or infinite."""

    def __init__(self, iteration: int, value: float):
        super().__init__(
            f"cost is {value} at iteration {iteration}: training diverged; "
            "try a lower learning_rate"
        )
        self.iteration, self.value = iteration, value

    def __reduce__(self):
        # Sweep workers send exceptions back pickled; rebuild from our own arguments.
        return type(self), (self.iteration, self.value)
