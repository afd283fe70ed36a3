"""Monthly range partitions of the telemetry tables on PostgreSQL (decision 0101; decision 0021's plan).

The five tables that grow with every message — raw frames, events, positions, vitals, sensor
readings — are partitioned by `received_at` (the server's clock: a terminal with a wrong clock
cannot put a row into the wrong month or outside every partition) into one partition per UTC
month, named ``<table>_pYYYYMM``, plus a ``<table>_default`` partition that catches anything no
month holds (only if creating partitions ahead has been neglected). Queries keep using the
(device, time) indexes, which exist on every partition.

* `partition_table` turns an ordinary table into a partitioned one, copying its rows (the
  migration ``gateway 0002`` runs it for an existing database with data); `unpartition_table`
  undoes it.
* `ensure_partitions` creates the partitions for this month and `MONTHS_AHEAD` months ahead;
  idempotent. Rows sitting in the default partition for a month being created are moved into it.
* `drop_expired_partitions` detaches, then drops, each month whose whole range is older than the
  table's retention (pingantong.devices.retention; positions never below 7 days, S09).

Huey runs both every night (`pingantong.gateway.tasks`); `pingantong telemetry_partitions` does it
by hand. On SQLite everything here is a no-op: the tables stay plain and the nightly purge deletes
in batches. Model and table names do not change, so the ingest code's inserts are untouched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connections, transaction
from django.utils import timezone

KEY = "received_at"
MONTHS_AHEAD = 3
PARTITIONED: dict[str, str] = {
    "devices_rawframe": "RawFrame",
    "devices_deviceeventrecord": "DeviceEventRecord",
    "devices_positionrecord": "PositionRecord",
    "devices_vitalsrecord": "VitalsRecord",
    "devices_sensorrecord": "SensorRecord",
}
"""Table → the model name whose retention applies (pingantong.devices.retention.retention_days)."""

_MONTHLY = re.compile(r"_p(\d{4})(\d{2})$")


def _q(name: str) -> str:
    """A quoted identifier (our names are fixed lowercase ASCII; refuse anything else)."""
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise ValueError(f"unexpected identifier {name!r}")
    return f'"{name}"'


def month_start(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def add_months(start: datetime, months: int) -> datetime:
    index = start.year * 12 + start.month - 1 + months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def partition_name(table: str, start: datetime) -> str:
    return f"{table}_p{start:%Y%m}"


@dataclass(frozen=True)
class Partition:
    name: str
    start: datetime  # inclusive
    end: datetime  # exclusive


def is_postgresql(using: str = "default") -> bool:
    return connections[using].vendor == "postgresql"


def is_partitioned(cursor: Any, table: str) -> bool:
    cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [table])
    row = cursor.fetchone()
    return bool(row and row[0] == "p")


def _exists(cursor: Any, name: str) -> bool:
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
    return bool(cursor.fetchone()[0])


def monthly_partitions(cursor: Any, table: str) -> list[Partition]:
    """The monthly partitions attached to `table`, oldest first (the default one excluded)."""
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass(%s)",
        [table],
    )
    found = []
    for (name,) in cursor.fetchall():
        match = _MONTHLY.search(name)
        if match and name.startswith(table):
            start = datetime(int(match.group(1)), int(match.group(2)), 1, tzinfo=UTC)
            found.append(Partition(name, start, add_months(start, 1)))
    return sorted(found, key=lambda p: p.start)


def _default_name(table: str) -> str:
    return f"{table}_default"


def create_month(cursor: Any, table: str, start: datetime) -> bool:
    """Create the partition for the month starting at `start`; False when it already exists.

    If the default partition already holds rows of that month, PostgreSQL refuses the new
    partition; the default is then detached, the month created, its rows moved, and the default
    attached again, all in the caller's transaction.
    """
    name = partition_name(table, start)
    if _exists(cursor, name):
        return False
    end = add_months(start, 1)
    bounds = [start, end]
    default = _default_name(table)
    stray = False
    if _exists(cursor, default):
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {_q(default)} WHERE {_q(KEY)} >= %s AND {_q(KEY)} < %s)",  # noqa: S608 - fixed identifiers
            bounds,
        )
        stray = bool(cursor.fetchone()[0])
    if stray:
        cursor.execute(f"ALTER TABLE {_q(table)} DETACH PARTITION {_q(default)}")
    cursor.execute(
        f"CREATE TABLE {_q(name)} PARTITION OF {_q(table)} FOR VALUES FROM (%s) TO (%s)",
        bounds,
    )
    if stray:
        cursor.execute(
            f"WITH moved AS (DELETE FROM {_q(default)} WHERE {_q(KEY)} >= %s AND {_q(KEY)} < %s "  # noqa: S608 - fixed identifiers
            f"RETURNING *) INSERT INTO {_q(name)} SELECT * FROM moved",
            bounds,
        )
        cursor.execute(f"ALTER TABLE {_q(table)} ATTACH PARTITION {_q(default)} DEFAULT")
    return True


def ensure_partitions(
    *, now: datetime | None = None, months_ahead: int = MONTHS_AHEAD, using: str = "default"
) -> list[str]:
    """Create this month's partition and `months_ahead` more for every partitioned table.

    Idempotent: returns the names created (empty when all exist). No-op off PostgreSQL and for a
    table that is not partitioned.
    """
    if not is_postgresql(using):
        return []
    first = month_start(now or timezone.now())
    created: list[str] = []
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        for table in PARTITIONED:
            if not is_partitioned(cursor, table):
                continue
            for m in range(months_ahead + 1):
                start = add_months(first, m)
                if create_month(cursor, table, start):
                    created.append(partition_name(table, start))
    return created


def drop_expired_partitions(
    *, now: datetime | None = None, detach_only: bool = False, using: str = "default"
) -> list[str]:
    """Drop (or only detach) every monthly partition whose whole month is past its retention.

    A month is expired when its end is at or before `now - retention`; the partly expired month
    stays and the nightly purge deletes its old rows. Detached partitions keep their table (to
    archive with pg_dump, then drop by hand).
    """
    if not is_postgresql(using):
        return []
    from pingantong.devices.retention import retention_days

    now = now or timezone.now()
    days = retention_days()
    removed: list[str] = []
    with connections[using].cursor() as cursor:
        for table, model in PARTITIONED.items():
            if not is_partitioned(cursor, table):
                continue
            cutoff = now - timedelta(days=days[model])
            for part in monthly_partitions(cursor, table):
                if part.end > cutoff:
                    break
                with transaction.atomic(using=using):
                    cursor.execute(f"ALTER TABLE {_q(table)} DETACH PARTITION {_q(part.name)}")
                    if not detach_only:
                        cursor.execute(f"DROP TABLE {_q(part.name)}")
                removed.append(part.name)
    return removed


# --- converting a table (the migration) -------------------------------------------------------


def drop_foreign_keys_to(cursor: Any, tables: list[str]) -> list[tuple[str, str]]:
    """Drop every foreign key constraint that references one of `tables` (from any table).

    A partitioned table's unique keys must include the partition key, so `id` alone can no
    longer be referenced. Returns (table, constraint) pairs dropped.
    """
    cursor.execute(
        "SELECT conrelid::regclass::text, conname FROM pg_constraint "
        "WHERE contype = 'f' AND confrelid = ANY (SELECT to_regclass(t) FROM unnest(%s::text[]) AS t)",
        [tables],
    )
    dropped = [(str(t), str(c)) for t, c in cursor.fetchall()]
    for table, constraint in dropped:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{constraint}"')
    return dropped


def _indexes(cursor: Any, table: str) -> list[str]:
    cursor.execute(
        "SELECT pg_get_indexdef(indexrelid) FROM pg_index "
        "WHERE indrelid = to_regclass(%s) AND NOT indisprimary",
        [table],
    )
    return [row[0] for row in cursor.fetchall()]


def _outgoing_foreign_keys(cursor: Any, table: str) -> list[tuple[str, str]]:
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid = to_regclass(%s)",
        [table],
    )
    return [(str(n), str(d)) for n, d in cursor.fetchall()]


def _rebuild(cursor: Any, table: str, *, partitioned: bool, now: datetime, months_ahead: int) -> None:
    """Copy `table` into a new table of the other kind under the same name, with the same columns,
    defaults, identity, checks, indexes and outgoing foreign keys."""
    new = f"{table}__new"
    indexes = _indexes(cursor, table)
    foreign_keys = _outgoing_foreign_keys(cursor, table)
    like = f"LIKE {_q(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY INCLUDING STORAGE"
    if partitioned:
        cursor.execute(f"CREATE TABLE {_q(new)} ({like}) PARTITION BY RANGE ({_q(KEY)})")
        cursor.execute(f'ALTER TABLE {_q(new)} ADD CONSTRAINT "{new}_pkey" PRIMARY KEY ("id", {_q(KEY)})')
        cursor.execute(f"SELECT MIN({_q(KEY)}) FROM {_q(table)}")  # noqa: S608 - fixed identifiers
        oldest = cursor.fetchone()[0]
        first = month_start(min(oldest, now) if oldest is not None else now)
        last = add_months(month_start(now), months_ahead)
        start = first
        while start <= last:
            name = partition_name(table, start)
            cursor.execute(
                f"CREATE TABLE {_q(name)} PARTITION OF {_q(new)} FOR VALUES FROM (%s) TO (%s)",
                [start, add_months(start, 1)],
            )
            start = add_months(start, 1)
        cursor.execute(f"CREATE TABLE {_q(_default_name(table))} PARTITION OF {_q(new)} DEFAULT")
    else:
        cursor.execute(f"CREATE TABLE {_q(new)} ({like})")
        cursor.execute(f'ALTER TABLE {_q(new)} ADD CONSTRAINT "{new}_pkey" PRIMARY KEY ("id")')
    cursor.execute(f"INSERT INTO {_q(new)} SELECT * FROM {_q(table)}")  # noqa: S608 - fixed identifiers
    highest = f'SELECT COALESCE(MAX("id"), 0) + 1 FROM {_q(table)}'  # noqa: S608 - fixed identifiers
    cursor.execute(f"SELECT setval(pg_get_serial_sequence(%s, 'id'), ({highest}), false)", [new])
    cursor.execute(f"DROP TABLE {_q(table)}")
    cursor.execute(f"ALTER TABLE {_q(new)} RENAME TO {_q(table)}")
    cursor.execute(f'ALTER TABLE {_q(table)} RENAME CONSTRAINT "{new}_pkey" TO "{table}_pkey"')
    cursor.execute(f'ALTER SEQUENCE "{new}_id_seq" RENAME TO "{table}_id_seq"')
    for definition in indexes:  # "CREATE INDEX name ON public.<table> …": the new table now
        cursor.execute(definition)
    for name, definition in foreign_keys:
        cursor.execute(f'ALTER TABLE {_q(table)} ADD CONSTRAINT "{name}" {definition}')


def partition_table(
    cursor: Any, table: str, *, now: datetime | None = None, months_ahead: int = MONTHS_AHEAD
) -> bool:
    """Turn a plain table into a monthly-partitioned one with its rows; False if it already is.

    Foreign keys referencing it must have been dropped first (`drop_foreign_keys_to`). Holds an
    exclusive lock on the table while copying: on a large existing table, plan the maintenance
    window (decision 0101).
    """
    if is_partitioned(cursor, table):
        return False
    _rebuild(cursor, table, partitioned=True, now=now or timezone.now(), months_ahead=months_ahead)
    return True


def unpartition_table(cursor: Any, table: str) -> bool:
    """Turn a partitioned table back into one plain table with all its rows; False if it is plain."""
    if not is_partitioned(cursor, table):
        return False
    _rebuild(cursor, table, partitioned=False, now=timezone.now(), months_ahead=0)
    return True
