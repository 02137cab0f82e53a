"""Runs whose process is gone: found and ended KILLED, never left RUNNING for ever.

Every run records where it runs (tags ``host``, ``pid``, ``process_start``: the
process's start time in clock ticks since boot, so a pid the system has since
given to another process is not mistaken for it). A RUNNING run of this host
whose process no longer exists, or whose pid now belongs to a process started at
another time, lost its process to ``kill -9``, the OOM killer or a closed lid:
``reap`` ends it KILLED with a tag saying why. Runs of other hosts, and runs whose
process lives, are never touched. Every run and sweep reaps once as it starts
(one query), and ``python -m src.compare --reap`` does it on demand.
"""
from __future__ import annotations

import os
import socket

from .store import ERROR_TAG

HOST_TAG, PID_TAG, START_TAG = "host", "pid", "process_start"


def host() -> str:
    return socket.gethostname()


def process_start(pid: int) -> str | None:
    """The process's start time (field 22 of /proc/PID/stat, clock ticks since boot),
    or None when there is no such process (or no /proc to ask)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    # the command name (field 2) is in parentheses and may hold spaces: count after it
    return stat.rsplit(")", 1)[1].split()[19]


def process_tags(pid: int | None = None) -> dict[str, str]:
    """host, pid and start time of this process (or of ``pid``)."""
    pid = os.getpid() if pid is None else pid
    return {HOST_TAG: host(), PID_TAG: str(pid), START_TAG: process_start(pid) or ""}


def is_alive(tags: dict) -> bool:
    """Whether the process that a run's tags name still runs (a run of another host,
    or without the tags, counts as alive: it is not ours to judge)."""
    if tags.get(HOST_TAG) != host() or not tags.get(PID_TAG, "").isdigit():
        return True
    started = process_start(int(tags[PID_TAG]))
    return started is not None and (not tags.get(START_TAG) or started == tags[START_TAG])


def reap(client, experiment_ids: list[str]) -> list[str]:
    """End KILLED every RUNNING run of this host whose process is gone; their ids."""
    running = client.search_runs(
        experiment_ids, filter_string=f"attributes.status = 'RUNNING' and tags.{HOST_TAG} = '{host()}'", max_results=1000)
    reaped = []
    for run in running:
        if is_alive(run.data.tags):
            continue
        why = (f"its process {run.data.tags.get(PID_TAG)} on {host()} is gone (killed, e.g. kill -9 or the OOM "
               "killer); found and ended KILLED later")
        client.set_tag(run.info.run_id, ERROR_TAG, why)
        client.set_terminated(run.info.run_id, "KILLED")
        reaped.append(run.info.run_id)
    return reaped
