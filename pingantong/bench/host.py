"""What a benchmark run records about the host beside its figures, so that runs can be compared.

The machine is shared: on some days a bare Python loop runs at half the speed of others, and every
figure of a run moves with it (docs/benchmarks.md). `host_loop_seconds` is that loop, timed before
and after the benchmarks: the same ten million additions the project's notes have quoted since the
first gateway runs (0.6 s on a quiet day of the 2-core benchmark machine, 0.9–1.8 s on a busy one).
`database_settings` are the server settings that shape a commit's latency and the log's writing
(PostgreSQL), or the connection's journal (SQLite).
"""

from __future__ import annotations

import time
from typing import Any

HOST_LOOP_ADDITIONS = 10_000_000

POSTGRESQL_SETTINGS = (
    "server_version",
    "synchronous_commit",
    "fsync",
    "wal_sync_method",
    "shared_buffers",
    "wal_buffers",
    "max_wal_size",
    "checkpoint_timeout",
    "max_connections",
)
SQLITE_PRAGMAS = ("journal_mode", "synchronous", "cache_size", "mmap_size")


_LOOP = compile("s = 0\nfor i in range(count):\n    s += i\n", "<host loop>", "exec")
"""At a module's top level, as `python3 -c` runs it: its names are looked up in a dict, which the
figures quoted before this module existed included (inside a function the loop takes half as long)."""


def host_loop_seconds(additions: int | None = None) -> float:
    """Seconds one core takes for a bare Python loop of `HOST_LOOP_ADDITIONS` additions."""
    count = HOST_LOOP_ADDITIONS if additions is None else additions
    started = time.perf_counter()
    exec(_LOOP, {"count": count})  # noqa: S102 - a constant, compiled above
    return round(time.perf_counter() - started, 3)


def database_settings() -> dict[str, Any]:
    """The database's settings in force for this run's connection (the scratch database's)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s) ORDER BY name",
                [list(POSTGRESQL_SETTINGS)],
            )
            return dict(cursor.fetchall())
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
            values: dict[str, Any] = {"sqlite_version": cursor.fetchone()[0]}
            for pragma in SQLITE_PRAGMAS:
                cursor.execute(f"PRAGMA {pragma}")
                values[pragma] = cursor.fetchone()[0]
            return values
    return {}
