"""CPU seconds that processes spent during a phase, by group: what a flow costs, whatever else runs here.

On a machine shared with other work, a rate says little about the code; the CPU time the
service's own processes used per flow does: ``/proc/<pid>/stat`` (user + system) of the gunicorn
workers, of the sandbox gateways' process, and of the PostgreSQL backends connected to the
bench's database, read before and after the phase; and the bench's own process, which drives
the load. Backends that appear during the phase count from zero; one that left during it is not
counted (a pool keeps its connections, so that is rare). Linux only.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Callable, Iterator

import psycopg

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_seconds(pid: int) -> float | None:
    """User + system CPU seconds of one process so far (None when it is gone)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime and stime, fields 14 and 15 of stat


def backends_of(conninfo: str) -> Callable[[], list[int]]:
    """A reader of the PostgreSQL backend pids connected to the database of ``conninfo`` (this one excepted)."""
    def read() -> list[int]:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            return [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                               "AND pid <> pg_backend_pid() AND backend_type = 'client backend'")]
    return read


@contextmanager
def measured(groups: dict[str, Callable[[], list[int]]], into: dict) -> Iterator[None]:
    """``into[group]`` = CPU seconds the group's processes used while the block ran."""
    before = {name: {pid: process_seconds(pid) or 0.0 for pid in pids()} for name, pids in groups.items()}
    yield
    for name, pids in groups.items():
        start = before[name]
        used = 0.0
        for pid in set(pids()) | set(start):
            now = process_seconds(pid)
            if now is not None:
                used += now - start.get(pid, 0.0)
        into[name] = round(used, 3)
