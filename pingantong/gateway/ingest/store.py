"""Writing one batch of frames: raw frames, events, time series, the unknown-device inbox.

Written with `executemany` and ids allocated up front rather than ORM objects: building Django
model instances and bulk_create statements costs about a millisecond per frame, which alone would
cap a gateway at ~1,000 messages/s (decision 0021). Ids are allocated inside the transaction: on
SQLite the transaction holds the database's write lock from BEGIN IMMEDIATE, so `MAX(id)` cannot
move under us; on PostgreSQL a block of values is taken from each table's sequence.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any, TypeVar

from django.db import OperationalError, connection, transaction

from pingantong.gateway import fastjson, pgarray
from pingantong.gateway.ingest.types import FrameIn, Stored, identity_of
from pingantong.gateway.ingest.writelock import writer_turn
from pingantong.gateway.pipeline import DeviceRef, StoredEvent

T = TypeVar("T")


_SEQUENCES: dict[str, str] = {}
"""PostgreSQL: each table's id sequence, looked up once. Inside the allocating statement,
`pg_get_serial_sequence` (a stable function: run again for every row) cost 4.5 ms of the server's
time for 850 ids on this machine, `nextval` of the named sequence 0.5 ms (decision 0135)."""


ALLOCATE_SQL = "SELECT nextval(%s::regclass) FROM generate_series(1, %s)"


def _sequence(cursor: Any, table: str) -> str:
    sequence = _SEQUENCES.get(table)
    if sequence is None:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        sequence = _SEQUENCES[table] = cursor.fetchone()[0]
    return sequence


def _allocate(cursor: Any, table: str, count: int) -> list[int]:
    if count == 0:
        return []
    if connection.vendor == "postgresql":
        cursor.execute(ALLOCATE_SQL, [_sequence(cursor, table), count])
        return [row[0] for row in cursor.fetchall()]
    cursor.execute(f'SELECT COALESCE(MAX("id"), 0) FROM "{table}"')  # noqa: S608 - table names from model meta, values bound
    start = int(cursor.fetchone()[0]) + 1
    return list(range(start, start + count))


JSONB_OID = 3802

_BINARY_AS: dict[int, int] = {
    16: 16,  # boolean
    17: 17,  # bytea
    20: 20,  # bigint
    21: 21,  # smallint
    23: 23,  # integer
    25: 25,  # text
    701: 701,  # double precision
    1043: 1043,  # character varying
    1184: 1184,  # timestamp with time zone
    JSONB_OID: 17,  # jsonb: sent as bytes already in jsonb's binary form (`json_column`)
}
"""PostgreSQL types of the ingest tables' columns, and the type psycopg dumps each one's values
as in a binary COPY."""

_COPY_TYPES: dict[tuple[str, tuple[str, ...]], list[int]] = {}


_COLUMNS: dict[str, dict[str, tuple[int, str]]] = {}


def _columns(cursor: Any, table: str) -> dict[str, tuple[int, str]]:
    """Each column's PostgreSQL type, read from the catalogue once per table: its oid, and its
    name in SQL without a length (a cast to it then refuses a value too long, as the column does,
    instead of cutting it)."""
    columns = _COLUMNS.get(table)
    if columns is None:
        cursor.execute(
            "SELECT attname, atttypid, format_type(atttypid, NULL) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            [table],
        )
        columns = _COLUMNS[table] = {name: (oid, sql) for name, oid, sql in cursor.fetchall()}
    return columns


def _column_types(cursor: Any, table: str) -> dict[str, int]:
    """Each column's type oid (`_columns`)."""
    return {name: oid for name, (oid, _sql) in _columns(cursor, table).items()}


def _copy_types(cursor: Any, table: str, columns: Sequence[str]) -> list[int]:
    """The binary COPY's types of `columns`."""
    key = (table, tuple(columns))
    types = _COPY_TYPES.get(key)
    if types is None:
        oids = _column_types(cursor, table)
        unknown = [c for c in columns if oids.get(c) not in _BINARY_AS]
        if unknown:
            raise RuntimeError(f"{table}: no binary COPY type for column(s) {unknown}")
        types = _COPY_TYPES[key] = [_BINARY_AS[oids[c]] for c in columns]
    return types


def _jsonb_binary(text: str) -> bytes:
    return b"\x01" + text.encode()


def _same(text: str) -> str:
    return text


def json_column() -> Callable[[str], Any]:
    """How a JSON text is passed to `_insert` for a JSON column: the text itself (SQLite), or
    jsonb's binary form for PostgreSQL's binary COPY (a version byte, 1, then the text)."""
    return _jsonb_binary if connection.vendor == "postgresql" else _same


def _insert(cursor: Any, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    """SQLite: executemany (a C loop). PostgreSQL: a binary COPY … FROM STDIN through psycopg 3's
    copy, rows adapted in C (decision 0093: executemany in pipeline mode was ~190 µs per message
    of three rows on this machine, the whole budget; one multi-row VALUES was slower still). The
    binary format (decision 0135): each value is dumped as its bytes, with no text to format here
    or to parse in the server: 0.9 against 5.5–7.8 µs of the writer's CPU for a position row,
    and 5.3–8.2 against 7.7–9.4 µs of the server's (text). JSON columns take `json_column`'s
    values."""
    if not rows:
        return
    cols = ", ".join(f'"{c}"' for c in columns)
    if connection.vendor == "postgresql":
        types = _copy_types(cursor, table, columns)
        raw = getattr(cursor, "cursor", cursor)  # Django's wrapper → the psycopg cursor
        with raw.copy(f'COPY "{table}" ({cols}) FROM STDIN (FORMAT BINARY)') as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)
        return
    # SQLite: multi-row INSERTs on the sqlite3 connection itself. executemany steps once per row
    # and releases and re-takes the GIL at each step; with a busy event loop in the same process
    # each re-take can wait for the loop's switch interval (5 ms), which made a 1,000-frame batch
    # take 300-500 ms of wall time for ~50 ms of work (decision 0093).
    per_row = "(" + ", ".join(["?"] * len(columns)) + ")"
    step = max(1, SQLITE_MAX_VARIABLES // len(columns))
    raw = connection.connection
    for start in range(0, len(rows), step):
        chunk = rows[start : start + step]
        params = [value for row in chunk for value in row]
        raw.execute(f'INSERT INTO "{table}" ({cols}) VALUES ' + ", ".join([per_row] * len(chunk)), params)  # noqa: S608 - table names from model meta


RAW_COLUMNS = (
    "id",
    "protocol",
    "device_id",
    "device_identity",
    "peer",
    "received_at",
    "data",
    "error",
    "gateway_node",
)
EVENT_COLUMNS = (
    "id",
    "device_id",
    "protocol",
    "device_identity",
    "message",
    "kind",
    "alarms",
    "device_time",
    "received_at",
    "archived",
    "serial",
    "payload",
    "raw_frame_id",
    "gateway_node",
)
POSITION_COLUMNS = (
    "device_id",
    "recorded_at",
    "received_at",
    "event_id",
    "latitude",
    "longitude",
    "valid",
    "speed_kmh",
    "course_deg",
    "altitude_m",
    "satellites",
    "archived",
)
VITALS_COLUMNS = (
    "device_id",
    "recorded_at",
    "received_at",
    "event_id",
    "heart_rate_bpm",
    "bp_systolic_mmhg",
    "bp_diastolic_mmhg",
    "spo2_pct",
    "body_temp_c",
)
SENSOR_COLUMNS = ("device_id", "recorded_at", "received_at", "event_id", "state", "alarms")
QUEUE_COLUMNS = ("gateway_node", "event_id")
"""`UnprocessedEvent`: every stored event waits there for the rules stage (decision 0132)."""


SQLITE_MAX_VARIABLES = 32_000  # SQLite >= 3.32 allows 32,766 bound parameters per statement


def _column(meta: Any, name: str) -> str:
    return str(meta.get_field(name).column)


def _device_sql() -> str:
    """SELECT of `DeviceRef.FIELDS` by protocol and identities, without the ORM (building a 1,000
    parameter `identity__in` lookup cost more than the inserts of the batch)."""
    from pingantong.devices.models import Device

    device = Device._meta
    dtype = device.get_field("device_type").related_model._meta  # type: ignore[union-attr]
    col = {name: _column(device, name) for name in ("identity", "client", "region", "device_type")}
    return (
        f'SELECT d."{device.pk.column}", d."{col["identity"]}", d."{col["client"]}", d."{col["region"]}", '  # noqa: S608 - names from model meta, values bound
        f'd."{col["device_type"]}", t."{_column(dtype, "proves_person")}", '
        f'd."{_column(device, "tz_offset_minutes")}" '
        f'FROM "{device.db_table}" d JOIN "{dtype.db_table}" t '
        f'ON t."{dtype.pk.column}" = d."{col["device_type"]}" '
        f'WHERE d."{_column(device, "protocol")}" = %s AND d."{col["identity"]}" IN '
    )


def _lookup_devices(cursor: Any, wanted: dict[str, set[str]]) -> dict[tuple[str, str], DeviceRef]:
    """PostgreSQL: the identities as one array parameter (decision 0135: psycopg's client-side
    binding quoted a thousand parameters one by one, 8 % of the writer process); SQLite: 900 bound
    parameters a statement."""
    devices: dict[tuple[str, str], DeviceRef] = {}
    for protocol, statement, params in _device_statements(wanted):
        cursor.execute(statement, params)
        _add_devices(devices, protocol, cursor.fetchall())
    return devices


def _add_devices(devices: dict[tuple[str, str], DeviceRef], protocol: str, rows: list[tuple]) -> None:
    for pk, identity, client_id, region_id, type_id, proves, tz in rows:
        ref = DeviceRef(pk, identity, client_id, region_id, type_id, bool(proves), tz)
        devices[(protocol, identity)] = ref


def _device_statements(wanted: dict[str, set[str]]) -> list[tuple[str, str, list[Any]]]:
    sql = _device_sql()
    statements: list[tuple[str, str, list[Any]]] = []
    for protocol, idents in wanted.items():
        names = sorted(idents)
        if connection.vendor == "postgresql":
            if names:
                by_array = sql.removesuffix(" IN ") + " = ANY(%s::text[])"
                statements.append((protocol, by_array, [protocol, pgarray.text_array(names)]))
            continue
        for start in range(0, len(names), 900):
            chunk = names[start : start + 900]
            marks = ", ".join(["%s"] * len(chunk))
            statements.append((protocol, sql + "(" + marks + ")", [protocol, *chunk]))
    return statements


def datetime_adapter() -> Any:
    """`connection.ops.adapt_datetimefield_value`, with a fast path for the aware UTC datetimes of
    the ingest path on SQLite (Django's goes through make_naive and zone look-ups per value)."""
    adapt = connection.ops.adapt_datetimefield_value
    if connection.vendor != "sqlite" or str(getattr(connection, "timezone_name", "UTC")) != "UTC":
        return adapt

    def fast(value: Any) -> Any:
        if value is not None and value.tzinfo is UTC:
            return value.isoformat(" ")[:-6]  # str() of the naive value, without making it
        return adapt(value)

    return fast


def _text(value: str, limit: int) -> str:
    """PostgreSQL text cannot hold NUL; terminals (and random bytes) can send them."""
    return value[:limit].replace("\x00", "\ufffd")


def _json(value: Any) -> str:
    """JSON for jsonb: PostgreSQL refuses the \\u0000 escape as well."""
    return fastjson.dumps(value).replace("\\u0000", "\\ufffd")


@dataclass(slots=True)
class PreparedBatch:
    """A batch's rows with everything but the ids filled in (`prepare_batch`), ready for
    `write_prepared` to number and insert under the write lock."""

    frames: Sequence[FrameIn]
    devices: dict[tuple[str, str], DeviceRef]
    raw_rows: list[tuple]  # RAW_COLUMNS without "id"
    events: list[tuple[int, tuple, tuple | None, Any]]  # (frame index, event row middle, series, event)
    vitals: list[tuple[int, tuple, tuple]]  # (event index, columns before event_id, columns after)
    sensors: list[tuple[int, tuple, tuple]]
    frame_devices: list[int | None]
    n_events: int


def _wanted(frames: Sequence[FrameIn]) -> dict[str, set[str]]:
    """The identities to look up, by protocol: each frame's terminal and its events' devices."""
    wanted: dict[str, set[str]] = {}
    for f in frames:
        idents = wanted.setdefault(f.protocol, set())
        ident = identity_of(f)
        if ident:
            idents.add(_text(ident, 64))
        for e in f.events:
            if e.device_id and e.device_id != ident:
                idents.add(_text(e.device_id, 64))
    return wanted


def prepare_batch(
    frames: Sequence[FrameIn],
    devices: dict[tuple[str, str], DeviceRef] | None = None,
    js: Callable[[str], Any] | None = None,
) -> PreparedBatch:
    """The Python half of storing a batch, outside any transaction: look the terminals up (a read;
    `devices` when the caller read them) and build every row except its ids. On SQLite the write
    lock is held only for `write_prepared` (numbering, inserts, commit), so the rules stage waits
    less for its turn and the ingest writer less for the rules'. `js` makes the JSON columns'
    values (`json_column` by default)."""
    dt = datetime_adapter()
    js = js or json_column()
    no_alarms = js("[]")
    if devices is None:
        with connection.cursor() as cursor:
            devices = _lookup_devices(cursor, _wanted(frames))
    raw_rows: list[tuple] = []
    events: list[tuple[int, tuple, tuple | None, Any]] = []
    vitals: list[tuple[int, tuple, tuple]] = []
    sensors: list[tuple[int, tuple, tuple]] = []
    frame_devices: list[int | None] = []
    for index, f in enumerate(frames):
        ident = identity_of(f)
        frame_device = devices.get((f.protocol, ident))
        frame_pk = frame_device.pk if frame_device is not None else None
        frame_devices.append(frame_pk)
        received = dt(f.received_at)
        raw_rows.append(
            (
                f.protocol,
                frame_pk,
                _text(ident, 64),
                _text(f.peer, 64),
                received,
                f.raw,
                _text(f.error or "", 255),
            )
        )
        for e in f.events:
            device = frame_device if e.device_id == ident else devices.get((f.protocol, e.device_id))
            device_pk = device.pk if device is not None else None
            device_time = dt(e.device_time) if e.device_time else None
            middle = (
                device_pk,
                e.protocol,
                _text(e.device_id, 64),
                _text(e.message, 32),
                e.kind,
                js(fastjson.dumps(e.alarms)) if e.alarms else no_alarms,
                device_time,
                received,
                e.archived,
                e.serial,
                js(_json(e.to_json(include_extra=True))),
            )
            position = None
            if device_pk is not None:
                at = device_time or received
                p = e.position
                if p is not None and not (p.latitude == 0 and p.longitude == 0):
                    position = (
                        (device_pk, at, received),
                        (
                            p.latitude,
                            p.longitude,
                            p.valid,
                            p.speed_kmh,
                            p.course_deg,
                            p.altitude_m,
                            p.satellites,
                            e.archived,
                        ),
                    )
                if e.vitals:
                    v = e.vitals
                    vitals.append(
                        (
                            len(events),
                            (device_pk, at, received),
                            (
                                v.get("heart_rate_bpm"),
                                v.get("bp_systolic_mmhg"),
                                v.get("bp_diastolic_mmhg"),
                                v.get("spo2_pct"),
                                v.get("body_temp_c"),
                            ),
                        )
                    )
                if e.sensor is not None:
                    state = (js(_json(e.sensor)), js(fastjson.dumps(e.alarms)))
                    sensors.append((len(events), (device_pk, at, received), state))
            events.append((index, middle, position, (e, device)))
    return PreparedBatch(frames, devices, raw_rows, events, vitals, sensors, frame_devices, len(events))


def write_prepared(batch: PreparedBatch, node: str) -> tuple[list[Stored], list[StoredEvent]]:
    """The database half: number the rows and insert them in one transaction."""
    from pingantong.devices.models import DeviceEventRecord, RawFrame, UnknownDeviceInbox

    with transaction.atomic(), connection.cursor() as cursor:
        raw_ids = _allocate(cursor, RawFrame._meta.db_table, len(batch.frames))
        event_ids = _allocate(cursor, DeviceEventRecord._meta.db_table, batch.n_events)
        tables, stored, handed = _numbered(batch, node, raw_ids, event_ids)
        for table, columns, rows in tables:
            _insert(cursor, table, columns, rows)
        _update_inbox(UnknownDeviceInbox, batch.frames, raw_ids, batch.devices)
    return stored, handed


def _numbered(
    batch: PreparedBatch, node: str, raw_ids: list[int], event_ids: list[int]
) -> tuple[list[tuple[str, tuple[str, ...], list[tuple]]], list[Stored], list[StoredEvent]]:
    """The batch's rows with their ids, table by table in the order they are inserted; what each
    frame stored; the events for the rules stage."""
    from pingantong.devices.models import (
        DeviceEventRecord,
        PositionRecord,
        RawFrame,
        SensorRecord,
        UnprocessedEvent,
        VitalsRecord,
    )

    frames = batch.frames
    raw_rows = [(raw_id, *row, node) for raw_id, row in zip(raw_ids, batch.raw_rows, strict=True)]
    event_rows: list[tuple] = []
    positions: list[tuple] = []
    handed: list[StoredEvent] = []
    per_frame: list[list[int]] = [[] for _ in frames]
    for (index, middle, position, (event, device)), event_id in zip(batch.events, event_ids, strict=True):
        raw_id = raw_ids[index]
        event_rows.append((event_id, *middle, raw_id, node))
        if position is not None:
            positions.append((*position[0], event_id, *position[1]))
        handed.append(StoredEvent(event, event_id, frames[index].received_at, device, node))
        per_frame[index].append(event_id)
    tables = [
        (RawFrame._meta.db_table, RAW_COLUMNS, raw_rows),
        (DeviceEventRecord._meta.db_table, EVENT_COLUMNS, event_rows),
        (PositionRecord._meta.db_table, POSITION_COLUMNS, positions),
        (VitalsRecord._meta.db_table, VITALS_COLUMNS, [(*h, event_ids[k], *t) for k, h, t in batch.vitals]),
        (SensorRecord._meta.db_table, SENSOR_COLUMNS, [(*h, event_ids[k], *t) for k, h, t in batch.sensors]),
        (UnprocessedEvent._meta.db_table, QUEUE_COLUMNS, [(node, i) for i in event_ids]),
    ]
    stored = [
        Stored(raw_id, ids, device_pk)
        for raw_id, ids, device_pk in zip(raw_ids, per_frame, batch.frame_devices, strict=True)
    ]
    return tables, stored, handed


LOCK_RETRIES = 3


def retry_locked(work: Callable[[], T]) -> T:
    """Run `work` (one write transaction), again a few times if another process held SQLite's
    write lock past busy_timeout."""
    for attempt in range(LOCK_RETRIES):
        try:
            return work()
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
            time.sleep(0.02 * (attempt + 1))
    return work()


def store_in_turn(frames: Sequence[FrameIn], node: str) -> tuple[list[Stored], list[StoredEvent], float]:
    """`store_batch` as the ingest writer runs it (thread or process): the rows are built before
    taking the turn at SQLite's write lock, so only numbering, inserts and the commit hold it (the
    rules stage waits for it). Returns the seconds spent waiting for the turn as well."""
    if pipelined(frames):  # PostgreSQL: no write lock to wait for
        stored, handed = store_pipelined(frames, node)
        return stored, handed, 0.0
    waited = 0.0

    def attempt() -> tuple[list[Stored], list[StoredEvent]]:
        nonlocal waited
        prepared = prepare_batch(frames)
        waiting = time.perf_counter()
        with writer_turn():
            waited += time.perf_counter() - waiting
            return write_prepared(prepared, node)

    stored, handed = retry_locked(attempt)
    return stored, handed, waited


def store_batch(frames: Sequence[FrameIn], node: str) -> tuple[list[Stored], list[StoredEvent]]:
    """Write a batch of frames in one transaction; returns per-frame ids and the events for rules."""
    if pipelined(frames):
        return store_pipelined(frames, node)
    return write_prepared(prepare_batch(frames), node)


# --- PostgreSQL: a few frames in three round trips ------------------------------------------------
#
# `write_prepared` waits for the server eleven times for one frame (counted in libpq's trace): the
# device look-up, two id allocations, the COPYs (four tables, each started and then finished), and
# the COMMIT. Each wait, on a machine busy with the gateway's load, is a wake-up of the server's
# process and then of the writer's thread (which must get the interpreter lock back), about 2-3 ms
# together: an SOS, stored alone on the urgent path, waited 35 ms at the median for its commit at
# 10,000 messages a second. A batch of a few frames is written instead in psycopg's pipeline mode
# (decision 0136) in three round trips: the look-up with the ids; BEGIN and every INSERT; the
# COMMIT, sent only once the INSERTs are known to be in.

PIPELINED_FRAMES = 16
"""PostgreSQL: a batch of at most this many frames goes through `store_pipelined` (the urgent
path's, and every batch at light load); larger ones through binary COPY, whose cost per row is far
lower."""


def pipelined(frames: Sequence[FrameIn]) -> bool:
    return (
        0 < len(frames) <= PIPELINED_FRAMES
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block  # inside a caller's transaction: its savepoint rules
    )


_INSERT_SQL: dict[tuple[str, tuple[str, ...]], str] = {}


def _insert_sql(cursor: Any, table: str, columns: Sequence[str]) -> str:
    """One row's INSERT into `columns` of `table`, JSON columns cast from text; built once."""
    key = (table, tuple(columns))
    sql = _INSERT_SQL.get(key)
    if sql is None:
        oids = _column_types(cursor, table)
        marks = ", ".join("%s::jsonb" if oids[c] == JSONB_OID else "%s" for c in columns)
        cols = ", ".join(f'"{c}"' for c in columns)
        sql = _INSERT_SQL[key] = f'INSERT INTO "{table}" ({cols}) VALUES ({marks})'  # noqa: S608 - names from model meta
    return sql


def store_pipelined(frames: Sequence[FrameIn], node: str) -> tuple[list[Stored], list[StoredEvent]]:
    """`store_batch` for a few frames on PostgreSQL, in three round trips: the same rows, in one
    transaction."""
    import psycopg
    from psycopg.pq import TransactionStatus

    from pingantong.devices.models import DeviceEventRecord, RawFrame

    n_events = sum(len(f.events) for f in frames)
    wanted = _wanted(frames)
    with connection.wrap_database_errors:
        connection.ensure_connection()
        pg = connection.connection
        with pg.cursor() as cursor:  # the catalogue, once per process
            raw_sequence = _sequence(cursor, RawFrame._meta.db_table)
            event_sequence = _sequence(cursor, DeviceEventRecord._meta.db_table)
        with pg.pipeline():
            looked = [
                (protocol, pg.execute(sql, params)) for protocol, sql, params in _device_statements(wanted)
            ]
            raw_allocated = pg.execute(ALLOCATE_SQL, [raw_sequence, len(frames)])
            events_allocated = pg.execute(ALLOCATE_SQL, [event_sequence, n_events])
        devices: dict[tuple[str, str], DeviceRef] = {}
        for protocol, cur in looked:
            _add_devices(devices, protocol, cur.fetchall())
        raw_ids = [row[0] for row in raw_allocated.fetchall()]
        event_ids = [row[0] for row in events_allocated.fetchall()]
    if any((f.protocol, identity_of(f)) not in devices for f in frames):
        # a terminal not in the registry: its inbox row is written through the ORM
        return write_prepared(prepare_batch(frames, devices), node)
    batch = prepare_batch(frames, devices, _same)
    tables, stored, handed = _numbered(batch, node, raw_ids, event_ids)
    with connection.wrap_database_errors:
        with pg.cursor() as catalogue:
            inserts = [
                (_insert_sql(catalogue, table, columns), rows) for table, columns, rows in tables if rows
            ]
        try:
            with pg.pipeline(), psycopg.Cursor(pg) as cursor:
                cursor.execute("BEGIN")
                for sql, rows in inserts:
                    cursor.executemany(sql, rows)
            # The COMMIT is sent only now that every row is in: a writer that dies while its
            # INSERTs wait (for a lock, say) leaves nothing, as on the COPY path. Queued behind
            # them, it would run for a client already gone.
            pg.execute("COMMIT")
        except BaseException:
            if pg.info.transaction_status in (TransactionStatus.INTRANS, TransactionStatus.INERROR):
                with contextlib.suppress(psycopg.Error):
                    pg.rollback()
            raise
    return stored, handed


# --- PostgreSQL: one SOS frame in one statement ---------------------------------------------------
#
# An SOS on the urgent path waited for three round trips in `store_pipelined` (the look-up with the
# ids; BEGIN and the INSERTs; the COMMIT), each a wake-up of the server's process and then of the
# urgent thread, on a machine busy with the gateway's load: 9.6 ms of its 14.7 ms mean inside the
# gateway at 10,000 messages a second (decision 0141). One frame of a registered device is stored
# instead by one statement, in autocommit its own transaction, so one round trip: the device is
# looked up, the ids are taken from the sequences and every row is inserted by data-modifying
# WITH queries, all or nothing. A device not in the registry makes the look-up, and so every
# INSERT, empty: nothing is written, and the frame goes the way that keeps the installers' inbox.

_ONE_STATEMENT_SQL: dict[tuple, str] = {}

_PLACEHOLDER_DEVICE = DeviceRef(0, "", None, "", "", False, 0)
"""Stands for the device while the rows are built: its id is the look-up's, inside the statement."""


def one_statement(frames: Sequence[FrameIn]) -> bool:
    """Whether `store_in_one_statement` can take `frames`: PostgreSQL in autocommit, one frame
    whose events are all its own terminal's."""
    if len(frames) != 1 or connection.vendor != "postgresql" or connection.in_atomic_block:
        return False
    frame = frames[0]
    ident = identity_of(frame)
    return bool(frame.events) and bool(ident) and all(e.device_id == ident for e in frame.events)


def store_in_one_statement(frames: Sequence[FrameIn], node: str) -> list[Stored] | None:
    """Store one frame (`one_statement`) of a registered device in one statement; None, with
    nothing written, when its device is not in the registry."""
    import psycopg

    from pingantong.devices.models import Device, DeviceEventRecord, RawFrame

    frame = frames[0]
    ident = _text(identity_of(frame), 64)
    batch = prepare_batch(frames, {(frame.protocol, identity_of(frame)): _PLACEHOLDER_DEVICE}, _same)
    # Numbered with stand-ins: the frame's id is 0 and each event's its index, so that every id
    # column can be told which of the statement's ids it takes.
    tables, _stored, _handed = _numbered(batch, node, [0], list(range(batch.n_events)))
    with connection.wrap_database_errors:
        connection.ensure_connection()
        pg = connection.connection
        if not pg.autocommit:
            return None
        exprs = [
            (
                table,
                columns,
                [[_stand_in(table, c, v) for c, v in zip(columns, row, strict=True)] for row in rows],
            )
            for table, columns, rows in tables
        ]
        key = (batch.n_events, tuple((table, tuple(map(tuple, shapes))) for table, _c, shapes in exprs))
        sql = _ONE_STATEMENT_SQL.get(key)
        if sql is None:
            with pg.cursor() as catalogue:
                sql = _ONE_STATEMENT_SQL[key] = _one_statement_sql(
                    catalogue,
                    Device._meta,
                    _sequence(catalogue, RawFrame._meta.db_table),
                    _sequence(catalogue, DeviceEventRecord._meta.db_table),
                    batch.n_events,
                    exprs,
                )
        params: list[Any] = [frame.protocol, ident]
        for (_t, _c, rows), (_t2, _c2, shapes) in zip(tables, exprs, strict=True):
            for row, shape in zip(rows, shapes, strict=True):
                params.extend(value for value, expr in zip(row, shape, strict=True) if expr is None)
        with psycopg.Cursor(pg) as cursor:  # bound by the server: prepared once used a few times
            cursor.execute(sql, params)
            found = cursor.fetchone()
    if found is None:
        return None
    device_pk, raw_id, event_ids = found
    return [Stored(raw_id, list(event_ids), device_pk)]


def _stand_in(table: str, column: str, value: Any) -> str | None:
    """The statement's expression for an id column of a row numbered with stand-ins (the frame 0,
    each event its index): the looked-up device, the frame's id, an event's id; None for a value
    that is bound as it is."""
    from pingantong.devices.models import DeviceEventRecord, RawFrame

    if column == "device_id":
        return "ids.device"
    if table == RawFrame._meta.db_table:
        return "ids.raw" if column == "id" else None
    if table == DeviceEventRecord._meta.db_table:
        if column == "raw_frame_id":
            return "ids.raw"
        return f"ids.events[{int(value) + 1}]" if column == "id" else None
    return f"ids.events[{int(value) + 1}]" if column == "event_id" else None


def _one_statement_sql(
    cursor: Any,
    device: Any,
    raw_sequence: str,
    event_sequence: str,
    n_events: int,
    exprs: list[tuple[str, tuple[str, ...], list[list[str | None]]]],
) -> str:
    """The statement of `store_in_one_statement`: the look-up with the ids, then one INSERT of
    each row, its id columns `_stand_in`'s expressions and its other values bound, cast to the
    column's type (a parameter in a SELECT list has none of its own)."""
    lookup = (
        f'SELECT d."{device.pk.column}" AS device, nextval({_literal(raw_sequence)}::regclass) AS raw, '  # noqa: S608 - names from the catalogue
        f"ARRAY(SELECT nextval({_literal(event_sequence)}::regclass) "
        f"FROM generate_series(1, {int(n_events)}) ORDER BY 1) AS events "  # in the frame's order
        f'FROM "{device.db_table}" d '
        f'WHERE d."{_column(device, "protocol")}" = %s AND d."{_column(device, "identity")}" = %s'
    )
    parts = [f"ids AS MATERIALIZED ({lookup})"]
    for table, columns, shapes in exprs:
        types = _columns(cursor, table)
        cols = ", ".join(f'"{c}"' for c in columns)
        for shape in shapes:
            values = ", ".join(
                f"%s::{types[column][1]}" if expr is None else expr
                for column, expr in zip(columns, shape, strict=True)
            )
            parts.append(f'w{len(parts)} AS (INSERT INTO "{table}" ({cols}) SELECT {values} FROM ids)')  # noqa: S608 - names from model meta, values bound
    return "WITH " + ",\n".join(parts) + "\nSELECT device, raw, events FROM ids"


def _literal(name: str) -> str:
    """A catalogue name as an SQL string literal."""
    return "'" + name.replace("'", "''") + "'"


def _update_inbox(model: Any, frames: Sequence[FrameIn], raw_ids: list[int], devices: dict) -> None:
    """Count frames of terminals not in the registry, for installers to bind (one row each)."""
    seen: dict[tuple[str, str], tuple[int, FrameIn, int, list[str]]] = {}
    for f, raw_id in zip(frames, raw_ids, strict=True):
        ident = identity_of(f)
        if not ident or (f.protocol, ident) in devices:
            continue
        count, _f, _r, alarms = seen.get((f.protocol, ident), (0, f, raw_id, []))
        new_alarms = sorted({*alarms, *(a for e in f.events for a in e.alarms)})
        seen[(f.protocol, ident)] = (count + 1, f, raw_id, new_alarms)
    if not seen:
        return
    existing = {
        (row.protocol, row.identity): row
        for protocol in {p for p, _ in seen}
        for row in model.objects.filter(
            protocol=protocol, identity__in=[_text(i, 64) for p, i in seen if p == protocol]
        )
    }
    created = []
    for (protocol, ident), (count, f, raw_id, alarms) in seen.items():
        row = existing.get((protocol, _text(ident, 64)))
        if row is None:
            created.append(
                model(
                    protocol=protocol,
                    identity=_text(ident, 64),
                    first_seen_at=f.received_at,
                    last_seen_at=f.received_at,
                    frame_count=count,
                    last_peer=_text(f.peer, 64),
                    last_frame_id=raw_id,
                    last_alarms=alarms,
                )
            )
        else:
            row.last_seen_at, row.frame_count = f.received_at, row.frame_count + count
            row.last_peer, row.last_frame_id = _text(f.peer, 64), raw_id
            if alarms:
                row.last_alarms = alarms
            row.save(update_fields=["last_seen_at", "frame_count", "last_peer", "last_frame", "last_alarms"])
    model.objects.bulk_create(created, ignore_conflicts=True)
