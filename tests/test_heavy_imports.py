"""A first heavy import runs with the garbage collector off, then freezes what exists;
later calls do nothing (freezing again would keep a job's cyclic garbage for ever)."""
from __future__ import annotations

import gc
import importlib
import sys

from src.heavy_imports import import_paused


def test_a_first_import_runs_without_the_collector_then_freezes(monkeypatch):
    sys.modules.pop("wave", None)
    real_import, seen = importlib.import_module, []
    monkeypatch.setattr(importlib, "import_module", lambda name: seen.append((name, gc.isenabled())) or real_import(name))
    frozen = gc.get_freeze_count()
    try:
        import_paused("wave")
        assert seen == [("wave", False)] and "wave" in sys.modules
        assert gc.isenabled() and gc.get_freeze_count() > frozen
        frozen = gc.get_freeze_count()
        import_paused("wave")  # imported already: nothing to do
        assert seen == [("wave", False)] and gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_the_collector_stays_off_if_it_was(monkeypatch):
    sys.modules.pop("wave", None)
    gc.disable()
    try:
        import_paused("wave")
        assert not gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()
