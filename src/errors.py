"""The project's one exception type for bad input (src/cli.py reports it)."""
from __future__ import annotations


class InputError(Exception):
    """Invalid configuration or data. The message names the key or file."""


class Abort(BaseException):
    """Carries ``error`` out of code that turns an Exception into a warning and carries on
    (Hydra's callbacks): src/cli.py reports the error it carries."""

    def __init__(self, error: Exception):
        super().__init__(str(error))
        self.error = error
