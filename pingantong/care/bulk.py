"""Multi-row INSERTs for the sweeps: tens of thousands of rows in seconds on SQLite and PostgreSQL.

The ORM's bulk_create prepares every value of every row through its field; in the daily sweep most
columns are the same for the whole batch, so they are prepared once here."""

from __future__ import annotations

from django.db import connection, models


def bulk_insert(
    model: type[models.Model],
    template: models.Model,
    varying: list[str],
    values: list[list],
    *,
    copy: bool = False,
) -> int:
    """INSERT `values` (one list per row, in the order of `varying` attnames) with every other column
    taken from `template`. Column names come from the model's own metadata, never from input.

    `copy=True`: on PostgreSQL, stream the rows with COPY instead (no SQL text to build and parse for
    tens of thousands of rows; decision 0087); the caller's transaction holds them as with INSERT."""
    if copy and connection.vendor == "postgresql":
        return _copy_rows(model, template, varying, values)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    by_name = {f.attname: f for f in fields}
    constants = {f.attname: f.get_db_prep_save(getattr(template, f.attname), connection) for f in fields}
    columns = [f.column for f in fields]
    order = [f.attname for f in fields]
    positions = {name: varying.index(name) for name in varying}
    prepared = [by_name[name] for name in varying]
    qn = connection.ops.quote_name
    per_row = len(columns)
    batch = max(1, min(500, 30000 // per_row))
    table = qn(model._meta.db_table)
    column_sql = ", ".join(qn(c) for c in columns)
    converters = [_converter(f) for f in prepared]
    # Each output row: the constant columns, with the varying ones dropped into their places.
    slots = [(positions.get(name), constants[name]) for name in order]
    with connection.cursor() as cursor:
        for start in range(0, len(values), batch):
            chunk = values[start : start + batch]
            params: list = []
            for raw in chunk:
                row = [convert(v) for convert, v in zip(converters, raw, strict=True)]
                params.extend(row[pos] if pos is not None else const for pos, const in slots)
            placeholders = ", ".join(["(" + ", ".join(["%s"] * per_row) + ")"] * len(chunk))
            sql = f"INSERT INTO {table} ({column_sql}) VALUES {placeholders}"  # noqa: S608 - names from _meta
            cursor.execute(sql, params)
    return len(values)


def _converter(field: models.Field):
    """The cheapest correct conversion of a Python value to what the driver takes for `field`."""
    kind = field.get_internal_type()
    if kind in ("CharField", "TextField", "SlugField"):
        return lambda v: None if v is None else str(v)
    if kind in ("ForeignKey", "IntegerField", "BigIntegerField", "PositiveSmallIntegerField", "BigAutoField"):
        return lambda v: v
    return lambda v: field.get_db_prep_save(v, connection)


def _copy_rows(
    model: type[models.Model], template: models.Model, varying: list[str], values: list[list]
) -> int:
    """PostgreSQL COPY … FROM STDIN through psycopg 3's `Copy.write_row` (it adapts each value)."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    constants = {f.attname: f.get_db_prep_save(getattr(template, f.attname), connection) for f in fields}
    order = [f.attname for f in fields]
    positions = {name: varying.index(name) for name in varying}
    by_name = {f.attname: f for f in fields}
    converters = {name: _converter(by_name[name]) for name in varying}
    qn = connection.ops.quote_name
    sql = f"COPY {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) FROM STDIN"
    slots = [(positions.get(name), converters.get(name), constants[name]) for name in order]
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor: Django's wrapper has no copy()
        with raw.copy(sql) as stream:
            for row in values:
                stream.write_row(
                    [const if pos is None else convert(row[pos]) for pos, convert, const in slots]  # type: ignore[misc]
                )
    return len(values)
