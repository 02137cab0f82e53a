"""The project's one exception type for bad input, and how CLIs report it."""
from __future__ import annotations

import functools
import os
import sys


class InputError(Exception):
    """Invalid configuration or data. The message names the key or file."""


def report_errors(main):
    """Turn an InputError into one line on stderr and exit status 1.

    Set IMPROVING_DNN_DEBUG=1 to see the traceback instead.
    """

    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except InputError as error:
            if os.environ.get("IMPROVING_DNN_DEBUG"):
                raise
            print(f"error: {error}", file=sys.stderr)
            sys.exit(1)

    return wrapper
