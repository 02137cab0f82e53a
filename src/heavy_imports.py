"""Importing a big library (MLflow, matplotlib) without the garbage collector's walks.

CPython's collector runs a pass every 700 new container objects and, every so
often, walks every object alive. Importing MLflow and its SQLite store makes about
half a million objects, so those walks grow with the import itself: ~20 % of its
time. An import makes no garbage worth collecting: here the collector is off while
it runs, and what it made is moved out of the collector's sight after
(``gc.freeze``), so the passes that follow skip it too (and a forked worker does
not copy those pages to update their collector fields). Only a first import does
this: freezing again later would keep a job's cyclic garbage for ever.
"""
from __future__ import annotations

import gc
import importlib
import sys


def import_paused(*names: str) -> None:
    """Import the modules ``names`` (dotted) not imported yet, with the collector off,
    then freeze everything alive."""
    missing = [name for name in names if name not in sys.modules]
    if not missing:
        return
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for name in missing:
            importlib.import_module(name)
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
