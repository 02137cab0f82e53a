"""A run's figures: its cost curve (cost.png) and, for 2D data, its decision boundary
(boundary.png), drawn by src/plots.py.

Importing matplotlib takes ~0.25 s, half the default run's training. An untracked
single run (``python -m src.train tracking=false``) forks a helper as training starts
(``drawing(in_helper=True)``): it imports matplotlib on the other core while the job
trains, then draws what the job sends it; the job waits for the files, so they exist
when it exits, byte for byte as drawn in-process. Elsewhere the other core is busy
(a sweep's jobs, a tracked run's tracking helper): the job draws itself.
"""
from __future__ import annotations

import contextlib
from pathlib import Path

from . import forked
from .heavy_imports import import_paused


def draw(steps, costs, params, X, Y, directory: str | Path, title: str) -> None:
    """Draw a run's figures into ``directory``, in this process."""
    import_paused("src.plots")  # matplotlib only when figures are drawn
    from . import plots

    directory = Path(directory)
    plots.cost_curve(steps, costs, directory / "cost.png", title)
    if X.shape[0] == 2:
        plots.decision_boundary(params, X, Y, directory / "boundary.png", title)


@contextlib.contextmanager
def drawing(in_helper: bool):
    """Yield ``draw`` (same arguments): in a helper forked now if ``in_helper`` and it
    pays, else this process's own."""
    if not (in_helper and forked.available("matplotlib")):
        yield draw
        return
    conn, pid = forked.fork(_serve)
    try:
        yield _Helper(conn, pid).draw
    finally:
        forked.end(conn, pid)  # done, or the job failed: a helper still importing is not waited for


class _Helper:
    def __init__(self, conn, pid: int):
        self.conn, self.pid = conn, pid

    def draw(self, *args) -> None:
        """The helper draws; its error is raised here. A helper gone (killed) leaves the
        drawing to this process."""
        try:
            self.conn.send(args)
            error = self.conn.recv()
        except (EOFError, OSError):
            draw(*args)
            return
        if error is not None:
            raise error


def _serve(conn) -> None:
    import_paused("src.plots")  # the import this helper exists for, while the job trains

    while True:
        try:
            args = conn.recv()
        except (EOFError, OSError):  # the job is done or gone
            return
        try:
            draw(*args)
            conn.send(None)
        except Exception as error:  # noqa: BLE001 (the job raises it)
            conn.send(error)
