"""The CPU priority of a gateway's bulk work (decision 0137).

An SOS's path to its ACK is a chain of wake-ups: the event loop, the gateway's `ingest-urgent`
thread (PostgreSQL; until decision 0141, the writer process's urgent thread) or the urgent
journal's (SQLite), the database server, the event loop again.
With the machine 96 % busy at 10,000 messages a second, each of them waited for a CPU behind the
bulk of the work: the rules process and the writer process's batches, which nobody waits on
within milliseconds. Those two now run at a lower priority (a higher nice value), so that the
scheduler runs a woken thread of the SOS's chain before them. They still get every CPU cycle the
rest leaves free, which at the benchmark's load is more than they need.

On Linux a thread's nice value is its own, and threads take their creator's when they start. The
writer process lowers its batch thread; on PostgreSQL nothing of an SOS's path runs in it any more
(decision 0141).
Raising a priority back needs privileges, which a gateway does not have; lowering it does not.

This is done on PostgreSQL only, by default. On SQLite it made the SOS tail worse (two alternating
pairs: p99 81 against 47 ms at 10,000 messages a second): there an SOS is acknowledged from the
urgent journal, and the bulk processes hold the database's one write lock in turns, which a
lowered process keeps longer when it is preempted.

`PINGANTONG_GATEWAY_BULK_NICE`: how much lower (1-19), or 0 to leave the priorities; default 10 on
PostgreSQL, 0 on SQLite.
"""

from __future__ import annotations

import logging
import os
import threading

from django.core.exceptions import ImproperlyConfigured

log = logging.getLogger("pingantong.gateway")

DEFAULT_BULK_NICE = {"postgresql": 10}
"""By database vendor; 0 for the others."""


def bulk_nice(vendor: str = "") -> int:
    """`PINGANTONG_GATEWAY_BULK_NICE`, or the default for `vendor`, checked: a wrong value stops
    the gateway at start."""
    raw = os.environ.get("PINGANTONG_GATEWAY_BULK_NICE", str(DEFAULT_BULK_NICE.get(vendor, 0))).strip()
    try:
        value = int(raw or "0")
        if not 0 <= value <= 19:
            raise ValueError(raw)
    except ValueError:
        raise ImproperlyConfigured(
            f"PINGANTONG_GATEWAY_BULK_NICE={raw!r}: a whole number from 0 (leave the priorities) "
            "to 19 (how much lower the rules and batch writer run than the listeners)"
        ) from None
    return value


def lower_this_thread() -> int:
    """Lower the calling thread's priority by `bulk_nice()` for this process's database (and so of
    the threads it starts from now on). Returns the thread's nice value in force."""
    return _lower([threading.get_native_id()])


def lower_this_process() -> int:
    """`lower_this_thread` for every thread of this process, the ones started before included
    (Linux lists them in /proc/self/task). Returns the calling thread's nice value in force."""
    tids = [int(t) for t in os.listdir("/proc/self/task")] if os.path.isdir("/proc/self/task") else []
    return _lower(tids or [threading.get_native_id()])


def _lower(tids: list[int]) -> int:
    from django.db import connection

    lower = bulk_nice(connection.vendor)
    if lower and hasattr(os, "setpriority"):
        for tid in tids:
            try:
                os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + lower))
            except ProcessLookupError:
                continue  # a thread that ended meanwhile
            except OSError as exc:  # a sandbox that forbids it: run as before
                log.warning("could not lower the priority of bulk work: %s", exc)
                break
    me = threading.get_native_id()
    return os.getpriority(os.PRIO_PROCESS, me) if hasattr(os, "getpriority") else 0
