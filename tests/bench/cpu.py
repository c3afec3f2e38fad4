"""Where the machine's CPU went during a load run (Linux /proc): the server's processes,
this benchmark with its load generator, and everything else. On a shared machine the
last one says how far to trust the figures."""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Snapshot:
    at: float
    busy: float  # seconds of CPU the whole machine spent
    server: float  # seconds of CPU of the server's process group
    database: float  # seconds of CPU of PostgreSQL's processes (any database: it may serve others too)
    bench: float  # this process and its finished children (wrk, the Python load generator)


@dataclass(frozen=True)
class Usage:
    seconds: float
    server_cores: float
    database_cores: float
    bench_cores: float
    other_cores: float


def _ticks() -> int:
    return int(os.sysconf("SC_CLK_TCK"))


def _machine_busy() -> float:
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:9]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / _ticks()


def _processes_cpu(pgid: int) -> tuple[float, float]:
    """CPU seconds of the process group pgid, and of the processes named postgres."""
    group = postgres = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                head, _, tail = f.read().rpartition(")")
        except OSError:
            continue
        fields = tail.split()  # state, ppid, pgrp, ...; utime and stime are 11 and 12
        used = int(fields[11]) + int(fields[12])
        if int(fields[2]) == pgid:
            group += used
        elif head.partition("(")[2] == "postgres":
            postgres += used
    return group / _ticks(), postgres / _ticks()


def _bench_cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def snapshot(server_pgid: int) -> Snapshot | None:
    try:
        server, database = _processes_cpu(server_pgid)
        return Snapshot(time.monotonic(), _machine_busy(), server, database, _bench_cpu())
    except (OSError, ValueError, IndexError):
        return None  # not Linux, or /proc unreadable: the figures go without it


def usage(before: Snapshot | None, after: Snapshot | None) -> Usage | None:
    if before is None or after is None or after.at <= before.at:
        return None
    seconds = after.at - before.at
    server = after.server - before.server
    database = after.database - before.database
    bench = after.bench - before.bench
    other = max(0.0, (after.busy - before.busy) - server - database - bench)
    return Usage(seconds, server / seconds, database / seconds, bench / seconds, other / seconds)
