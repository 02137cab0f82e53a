"""The project's one exception type for bad input (src/cli.py reports it)."""
from __future__ import annotations


class InputError(Exception):
    """Invalid configuration or data. The message names the key or file."""
