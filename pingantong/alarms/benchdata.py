"""Fast generation of the alarm benchmark's data: 100,000 clients and 10 million device events.

The ORM's `bulk_create` prepares every value of every row through its field and builds one big
statement per batch; at ten million rows that alone takes most of an hour on this machine. Here the
columns that are the same for every row are prepared once from a template instance, the varying
ones are converted with the cheapest correct conversion (datetimes formatted once per distinct
value), and the rows go to the database as `executemany` on SQLite (one prepared statement, stepped
per row, in C) and as `COPY … FROM STDIN` on PostgreSQL. Decision 0108.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from django.db import connection, models, transaction

ROWS_PER_TRANSACTION = 200_000


def _datetime_converter() -> Callable[[Any], Any]:
    """What the driver takes for an aware datetime: SQLite stores Django's naive-UTC text
    (`str(datetime)`, as `adapt_datetimefield_value` writes it); psycopg takes the object."""
    if connection.vendor == "sqlite":

        def to_sqlite(value: datetime | None) -> str | None:
            if value is None:
                return None
            return str(value.astimezone(UTC).replace(tzinfo=None))

        return to_sqlite
    return lambda value: value


def converter(field: models.Field) -> Callable[[Any], Any]:
    """The cheapest correct conversion of a Python value to what the driver takes for `field`."""
    kind = field.get_internal_type()
    if kind in ("CharField", "TextField", "SlugField"):
        return lambda v: None if v is None else str(v)
    if kind in (
        "ForeignKey",
        "OneToOneField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "BigAutoField",
        "AutoField",
        "FloatField",
    ):
        return lambda v: v
    if kind == "DateTimeField":
        return _datetime_converter()
    return lambda v: field.get_db_prep_save(v, connection)


def fast_insert(
    model: type[models.Model],
    template: models.Model,
    varying: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    prepared: bool = False,
) -> int:
    """INSERT `rows` (one sequence per row, in the order of the `varying` attnames) with every other
    column taken from `template`. With `prepared=True` the varying values are already what the
    driver takes (e.g. datetimes pre-formatted once for many rows). Returns the rows inserted.

    Column names come from the model's metadata, never from input. An auto primary key is left to
    the database; a non-auto one (DeviceState's device) must be among `varying`."""
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.attname not in varying)]
    for f in fields:
        if f.attname not in varying:
            # auto_now / auto_now_add fill the template once; defaults are already on it.
            f.pre_save(template, add=True)
    constants = {
        f.attname: f.get_db_prep_save(getattr(template, f.attname), connection)
        for f in fields
        if f.attname not in varying
    }
    by_name = {f.attname: f for f in fields}
    missing = [name for name in varying if name not in by_name]
    if missing:
        raise ValueError(f"not columns of {model.__name__}: {missing}")
    position = {name: i for i, name in enumerate(varying)}
    converters = [(lambda v: v) if prepared else converter(by_name[name]) for name in varying]
    # Each output row: the constants, with the varying values dropped into their places.
    slots = [(position.get(f.attname), constants.get(f.attname)) for f in fields]
    columns = [f.column for f in fields]

    def expand(raw: Sequence[Any]) -> tuple[Any, ...]:
        row = [convert(v) for convert, v in zip(converters, raw, strict=True)]
        return tuple(row[pos] if pos is not None else const for pos, const in slots)

    if connection.vendor == "postgresql":
        return _copy(model, columns, map(expand, rows))
    return _executemany(model, columns, map(expand, rows))


def _executemany(model: type[models.Model], columns: list[str], rows: Iterable[tuple]) -> int:
    qn = connection.ops.quote_name
    placeholders = ", ".join(["%s"] * len(columns))
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(c) for c in columns)}) "  # noqa: S608
        f"VALUES ({placeholders})"
    )
    done = 0
    chunk: list[tuple] = []
    with connection.cursor() as cursor:
        for row in rows:
            chunk.append(row)
            if len(chunk) >= ROWS_PER_TRANSACTION:
                with transaction.atomic():
                    cursor.executemany(sql, chunk)
                done += len(chunk)
                chunk = []
        if chunk:
            with transaction.atomic():
                cursor.executemany(sql, chunk)
            done += len(chunk)
    return done


def _copy(model: type[models.Model], columns: list[str], rows: Iterable[tuple]) -> int:
    """PostgreSQL: COPY in binary-free text form through psycopg 3's `Copy.write_row`."""
    qn = connection.ops.quote_name
    sql = f"COPY {qn(model._meta.db_table)} ({', '.join(qn(c) for c in columns)}) FROM STDIN"
    done = 0
    connection.ensure_connection()
    iterator = iter(rows)
    while True:
        wrote = 0
        with transaction.atomic(), connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg's own cursor: Django's wrapper has no copy()
            with raw.copy(sql) as copy:
                for row in iterator:
                    copy.write_row(row)
                    wrote += 1
                    if wrote >= ROWS_PER_TRANSACTION:
                        break
        done += wrote
        if wrote < ROWS_PER_TRANSACTION:
            return done


def analyze() -> None:
    """Refresh the planner's statistics after a bulk load (SQLite samples, bounded in time)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA analysis_limit=2000")
        cursor.execute("ANALYZE")


def big_cache() -> None:
    """SQLite: a large page cache for this connection while ten million index entries go in."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size=-1000000")
