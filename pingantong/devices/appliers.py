"""The batch applier of the state and life-sign decisions (run by the gateway's rules engine).

Both kinds of decision write the same `DeviceState` rows, so one applier takes them together, in
one transaction, and moves each row once (decision 0135): one conditional UPDATE per device
(SQLite, executemany) or one for the batch (PostgreSQL, arrays), whatever the number of events:
the newer fact wins inside the SQL (`CASE WHEN stored < new`), so nothing is read first and a
blind-area fix older than the stored one does not move the device back. Rows are created on first
sight (INSERT … ON CONFLICT DO NOTHING) for devices created outside `register_device`.

Life signs and positions that happened before the device's current binding (`bound_at`, late
blind-area data of the previous client) do not move the state: they are not the current client's
(decision 0111). The history row of each life sign names the client bound when it happened.

Lock order (decision 0112): rows are written in ascending `device_id`, as the gateway's connection
bookkeeping locks them, so the rules stage and a mass reconnect never wait on each other in a
cycle; the life-sign history (whose foreign key share-locks the `Device` row) is inserted before
the state rows are locked, as rebinding a device locks `Device` before `DeviceState` — with the
foreign-key checks made at once (`SET CONSTRAINTS ALL IMMEDIATE`; Django's are deferred to COMMIT,
after the state rows would be locked). The rules engine retries an applier's transaction aborted
by a deadlock all the same (`atomic_retrying`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from pingantong.devices.models import Device, DeviceState, LifeSign
from pingantong.gateway import pgarray
from pingantong.gateway.ingest.store import datetime_adapter
from pingantong.gateway.pipeline import LIFE_SIGN_HISTORY_SPACING, RecordLifeSign, UpdateDeviceState

_T = DeviceState._meta.db_table


@contextlib.contextmanager
def foreign_keys_checked_now() -> Iterator[None]:
    """PostgreSQL: inside the block, check foreign keys at each statement's end, not at COMMIT
    (Django creates them DEFERRABLE INITIALLY DEFERRED). A check share-locks the referenced `Device`
    row; deferred to COMMIT it came after the transaction's `DeviceState` row locks, the reverse of
    rebinding's order (Device, then DeviceState), and the two deadlocked (decision 0112). Deferred
    again after the block, for the rest of an enclosing transaction."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _ensure_rows(cursor: Any, device_pks: set[int], now: Any) -> None:
    """Create the state rows of these devices where missing (a device created outside
    `register_device`). Called only when an UPDATE found fewer rows than devices."""
    cursor.executemany(
        f'INSERT INTO "{_T}" ("device_id", "position_valid", "last_life_sign_source", "connected_node", '  # noqa: S608 - table names from model meta, values bound
        '"updated_at") VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING',
        [(pk, False, "", "", now) for pk in sorted(device_pks)],
    )


def _newer(column: str) -> str:
    return f'CASE WHEN "{column}" IS NULL OR "{column}" < %s THEN %s ELSE "{column}" END'


_FIX = (
    '%s IS NOT NULL AND ("position_at" IS NULL OR "position_at" <= %s) '
    'AND ("bound_at" IS NULL OR "bound_at" <= %s)'
)
"""A fix is taken when newer than the stored one and not from before the current binding."""

_LATEST = '%s IS NOT NULL AND ("last_message_at" IS NULL OR "last_message_at" <= %s)'
"""A reading (battery, signal, steps) is taken only from a message received no earlier than the
last one applied: the priority lane runs an SOS ahead of the older reports queued before it, and
those must not put an older battery or step count back over it (S01, decision 0113)."""

_LIFE = '%s IS NOT NULL AND ("bound_at" IS NULL OR "bound_at" <= %s)'
"""A life sign moves the state unless it is from before the device's current binding (the previous
client's, arriving late): it is kept in the history but proves nothing of the client bound now."""

STATE_SQL = (
    f'UPDATE "{_T}" SET '  # noqa: S608 - table names from model meta, values bound
    f'"last_message_at" = {_newer("last_message_at")}, '
    f'"last_device_seen_at" = {_newer("last_device_seen_at")}, '
    f'"battery_pct" = CASE WHEN {_LATEST} THEN %s ELSE "battery_pct" END, '
    f'"signal_pct" = CASE WHEN {_LATEST} THEN %s ELSE "signal_pct" END, '
    f'"steps" = CASE WHEN {_LATEST} THEN %s ELSE "steps" END, '
    f'"latitude" = CASE WHEN {_FIX} THEN %s ELSE "latitude" END, '
    f'"longitude" = CASE WHEN {_FIX} THEN %s ELSE "longitude" END, '
    f'"position_valid" = CASE WHEN {_FIX} THEN %s ELSE "position_valid" END, '
    f'"position_at" = CASE WHEN {_FIX} THEN %s ELSE "position_at" END, '
    f'"last_life_sign_source" = CASE WHEN {_LIFE} '
    'AND ("last_life_sign_at" IS NULL OR "last_life_sign_at" <= %s) '
    'THEN %s ELSE "last_life_sign_source" END, '
    f'"last_life_sign_at" = CASE WHEN {_LIFE} '
    'AND ("last_life_sign_at" IS NULL OR "last_life_sign_at" < %s) THEN %s ELSE "last_life_sign_at" END, '
    '"updated_at" = %s '
    'WHERE "device_id" = %s'
)


def _reading(value: tuple[int, datetime] | None, adapt: Any) -> tuple[Any, Any, Any]:
    """The three parameters of a `_LATEST` column: value, time of its message, value."""
    if value is None:
        return (None, None, None)
    return (value[0], adapt(value[1]), value[0])


def _memo_adapter() -> Any:
    """The database form of a datetime, each distinct value adapted once per batch (a batch's
    readings share their message's time; adapting cost ~1 µs a value, several per event)."""
    adapt = datetime_adapter()
    memo: dict[datetime, Any] = {}

    def cached(value: datetime) -> Any:
        out = memo.get(value)
        if out is None:
            out = memo[value] = adapt(value)
        return out

    return cached


def apply_device_decisions(decisions: Sequence[UpdateDeviceState | RecordLifeSign]) -> None:
    """Apply a batch's state and life-sign decisions: the life-sign history first (its foreign
    key share-locks each `Device` row, which rebinding locks before the `DeviceState` row;
    taken after the state rows, the two could deadlock, decision 0112), then each state row once."""
    states: list[UpdateDeviceState] = []
    signs: list[RecordLifeSign] = []
    for d in decisions:
        (states if type(d) is UpdateDeviceState else signs).append(d)  # type: ignore[arg-type]
    merged = _merge_states(states)
    latest = _record_history(signs) if signs else {}
    if connection.vendor == "postgresql":
        _pg_apply(merged, latest)
        return
    adapt = _memo_adapter()
    now = adapt(timezone.now())
    nothing = (None,) * 4
    pks = sorted(merged.keys() | latest.keys())
    rows = []
    for pk in pks:  # ascending device_id: the global lock order
        m = merged.get(pk)
        if m is not None:
            seen = adapt(m["seen"])
            lat, lon, valid, at = m["position"] if m["position"] is not None else nothing
            at_db = adapt(at) if at is not None else None
            state = (
                *(seen, seen, seen, seen),
                *_reading(m["battery"], adapt),
                *_reading(m["signal"], adapt),
                *_reading(m["steps"], adapt),
                *(at_db, at_db, at_db, lat),
                *(at_db, at_db, at_db, lon),
                *(at_db, at_db, at_db, valid),
                *(at_db, at_db, at_db, at_db),
            )
        else:
            state = _NO_STATE
        sign = latest.get(pk)
        life: tuple[Any, ...]
        if sign is not None:
            life_at = adapt(sign.occurred_at)
            life = (life_at, life_at, life_at, sign.source, life_at, life_at, life_at, life_at)
        else:
            life = _NO_LIFE
        rows.append((*state, *life, now, pk))
    _update_rows(STATE_SQL, rows, set(pks), now)


_NO_STATE = (None,) * 29
_NO_LIFE = (None,) * 8


def _merge_states(decisions: Sequence[UpdateDeviceState]) -> dict[int, dict[str, Any]]:
    """A batch's state decisions coalesced per device, in order: each reading with the time of the
    message that carried it; the latest message wins."""
    merged: dict[int, dict[str, Any]] = {}
    for d in decisions:
        seen = d.seen_at
        m = merged.get(d.device_pk)
        if m is None:
            m = merged[d.device_pk] = {
                "seen": seen,
                "battery": None,
                "signal": None,
                "steps": None,
                "position": None,
            }
        elif seen > m["seen"]:
            m["seen"] = seen
        if d.battery_pct is not None and (m["battery"] is None or seen >= m["battery"][1]):
            m["battery"] = (max(0, min(100, d.battery_pct)), seen)
        if d.signal_pct is not None and (m["signal"] is None or seen >= m["signal"][1]):
            m["signal"] = (max(0, min(100, d.signal_pct)), seen)
        if d.steps is not None and (m["steps"] is None or seen >= m["steps"][1]):
            m["steps"] = (max(0, d.steps), seen)
        if d.position is not None and (m["position"] is None or d.position[3] >= m["position"][3]):
            m["position"] = d.position
    return merged


def _pg_new(column: str, value: str) -> str:
    return f'CASE WHEN s."{column}" IS NULL OR s."{column}" < {value} THEN {value} ELSE s."{column}" END'


def _pg_latest(column: str, value: str) -> str:
    return (
        f"CASE WHEN v.{value} IS NOT NULL "
        f'AND (s."last_message_at" IS NULL OR s."last_message_at" <= v.{value}_at) '
        f'THEN v.{value} ELSE s."{column}" END'
    )


_PG_FIX = (
    'v.pos_at IS NOT NULL AND (s."position_at" IS NULL OR s."position_at" <= v.pos_at) '
    'AND (s."bound_at" IS NULL OR s."bound_at" <= v.pos_at)'
)
_PG_LIFE = 'v.life_at IS NOT NULL AND (s."bound_at" IS NULL OR s."bound_at" <= v.life_at)'
_US = pgarray.from_epoch_us
PG_STATE_SQL = (
    f'UPDATE "{_T}" AS s SET '  # noqa: S608 - table names from model meta, values bound
    f'"last_message_at" = {_pg_new("last_message_at", "v.seen")}, '
    f'"last_device_seen_at" = {_pg_new("last_device_seen_at", "v.seen")}, '
    f'"battery_pct" = {_pg_latest("battery_pct", "battery")}, '
    f'"signal_pct" = {_pg_latest("signal_pct", "signal")}, '
    f'"steps" = {_pg_latest("steps", "steps")}, '
    f'"latitude" = CASE WHEN {_PG_FIX} THEN v.lat ELSE s."latitude" END, '
    f'"longitude" = CASE WHEN {_PG_FIX} THEN v.lon ELSE s."longitude" END, '
    f'"position_valid" = CASE WHEN {_PG_FIX} THEN v.valid ELSE s."position_valid" END, '
    f'"position_at" = CASE WHEN {_PG_FIX} THEN v.pos_at ELSE s."position_at" END, '
    f'"last_life_sign_source" = CASE WHEN {_PG_LIFE} AND '
    '(s."last_life_sign_at" IS NULL OR s."last_life_sign_at" <= v.life_at) '
    'THEN v.life_source ELSE s."last_life_sign_source" END, '
    f'"last_life_sign_at" = CASE WHEN {_PG_LIFE} AND '
    '(s."last_life_sign_at" IS NULL OR s."last_life_sign_at" < v.life_at) '
    'THEN v.life_at ELSE s."last_life_sign_at" END, '
    '"updated_at" = %s '
    f"FROM (SELECT device_id, {_US('seen')} AS seen, battery, {_US('battery_at')} AS battery_at, "
    f"signal, {_US('signal_at')} AS signal_at, steps, {_US('steps_at')} AS steps_at, lat, lon, valid, "
    f"{_US('pos_at')} AS pos_at, {_US('life_at')} AS life_at, life_source "
    "FROM unnest(%s::bigint[], %s::bigint[], %s::int[], %s::bigint[], %s::int[], "
    "%s::bigint[], %s::bigint[], %s::bigint[], %s::float8[], %s::float8[], %s::bool[], "
    "%s::bigint[], %s::bigint[], %s::text[]) AS u(device_id, seen, battery, battery_at, signal, "
    "signal_at, steps, steps_at, lat, lon, valid, pos_at, life_at, life_source)) AS v "
    'WHERE s."device_id" = v.device_id'
)
"""PostgreSQL: the same UPDATE for the whole batch in one statement, its values as arrays written
as text (`pgarray`: psycopg adapts a list element by element in Python, ~15 µs a device for these
fourteen; executemany adapted 24 parameters per device: ~70 µs a device). Times travel as
microseconds since the epoch: formatting an aware datetime as text cost ~4 µs a value, a sixth of
the rules process's CPU (decision 0135)."""

PG_LOCK_SQL = f'SELECT 1 FROM "{_T}" WHERE "device_id" = ANY(%s::bigint[]) ORDER BY "device_id" FOR UPDATE'  # noqa: S608 - table names from model meta, values bound
"""The rows of a set-based UPDATE are locked first, in ascending device_id (decision 0112): the
UPDATE's join would lock them in whatever order its plan visits them."""


def _pg_apply(merged: dict[int, dict[str, Any]], latest: dict[int, RecordLifeSign]) -> None:
    pks = sorted(merged.keys() | latest.keys())
    cols: list[list[Any]] = [[] for _ in range(13)]
    no_state = (None,) * 11
    for pk in pks:
        m = merged.get(pk)
        sign = latest.get(pk)
        state = (
            (
                m["seen"],
                *(m["battery"] or (None, None)),
                *(m["signal"] or (None, None)),
                *(m["steps"] or (None, None)),
                *(m["position"] or (None, None, None, None)),
            )
            if m is not None
            else no_state
        )
        life = (sign.occurred_at, sign.source) if sign is not None else (None, None)
        for column, value in zip(cols, (*state, *life), strict=True):
            column.append(value)
    seen, battery, battery_at, signal, signal_at, steps, steps_at, lat, lon, valid, pos_at = cols[:11]
    life_at, source = cols[11:]
    ints, us, floats = pgarray.int_array, pgarray.epoch_us_array, pgarray.float_array
    params: list[Any] = [
        *(timezone.now(), ints(pks), us(seen)),
        *(ints(battery), us(battery_at), ints(signal), us(signal_at), ints(steps), us(steps_at)),
        *(floats(lat), floats(lon), pgarray.bool_array(valid), us(pos_at)),
        *(us(life_at), pgarray.text_array(source)),
    ]
    with connection.cursor() as cursor:
        cursor.execute(PG_LOCK_SQL, [pgarray.int_array(pks)])
        cursor.execute(PG_STATE_SQL, params)
        if cursor.rowcount >= len(pks):
            return
        with foreign_keys_checked_now():
            _ensure_rows(cursor, set(pks), timezone.now())
        cursor.execute(PG_STATE_SQL, params)


def _update_rows(sql: str, rows: list[tuple], device_pks: set[int], now: Any) -> None:
    """One UPDATE per device (executemany); when some state rows do not exist yet (rowcount short:
    a device created outside `register_device`), create them and run the UPDATEs again (they are
    idempotent: each column only moves forward). The common case costs no look-up and no INSERT."""
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
        if cursor.rowcount >= len(rows):
            return
        # A row created here share-locks its Device row at once (decision 0112).
        with foreign_keys_checked_now():
            _ensure_rows(cursor, device_pks, now)
        cursor.executemany(sql, rows)


def _life_facts(
    cursor: Any, device_pks: list[int]
) -> dict[int, tuple[Any, datetime | None, datetime | None]]:
    """(bound client, binding time, last history row's time) of each device, in one statement:
    the client names each history row, the two times decide whether a sign is logged."""
    d_meta, s_meta, l_meta = Device._meta, DeviceState._meta, LifeSign._meta
    sql = (
        'SELECT d."id", d."client_id", s."bound_at", '  # noqa: S608 - table names from model meta, values bound
        f'(SELECT MAX(l."occurred_at") FROM "{l_meta.db_table}" l WHERE l."device_id" = d."id") '
        f'FROM "{d_meta.db_table}" d '
        f'LEFT JOIN "{s_meta.db_table}" s ON s."device_id" = d."id" WHERE d."id" IN '
    )
    out: dict[int, tuple[Any, datetime | None, datetime | None]] = {}
    if connection.vendor == "postgresql":
        # Times as seconds since the epoch: psycopg's timestamptz loader (Python code, through
        # Django's zone wrapper) cost ~7 µs a value, a tenth of the rules process (decision 0135).
        sql = sql.replace('s."bound_at"', 'CAST(EXTRACT(EPOCH FROM s."bound_at") AS float8)').replace(
            'MAX(l."occurred_at")', 'CAST(EXTRACT(EPOCH FROM MAX(l."occurred_at")) AS float8)'
        )
        cursor.execute(sql.replace(" IN ", " = ANY(%s::bigint[])"), [pgarray.int_array(device_pks)])
        for pk, client_id, bound_at, logged in cursor.fetchall():
            out[pk] = (client_id, _aware(bound_at), _aware(logged))
        return out
    for start in range(0, len(device_pks), 900):
        chunk = device_pks[start : start + 900]
        cursor.execute(sql + "(" + ", ".join(["%s"] * len(chunk)) + ")", chunk)
        for pk, client_id, bound_at, logged in cursor.fetchall():
            out[pk] = (client_id, _aware(bound_at), _aware(logged))
    return out


def _aware(value: Any) -> datetime | None:
    """A datetime as a raw cursor returns it: seconds since the epoch or aware (PostgreSQL), naive
    UTC or text (SQLite)."""
    if value is None:
        return None
    if isinstance(value, float):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


_HISTORY_SQL = (
    f'INSERT INTO "{LifeSign._meta.db_table}" '  # noqa: S608 - table names from model meta, values bound
    '("device_id", "client_id", "occurred_at", "source", "event_id") VALUES (%s, %s, %s, %s, %s)'
)


def _record_history(decisions: Sequence[RecordLifeSign]) -> dict[int, RecordLifeSign]:
    """Keep a thinned history of the life signs (`LifeSign`; every SOS kept); return each device's
    latest sign, which moves `last_life_sign_at` forward."""
    adapt = _memo_adapter()
    latest: dict[int, RecordLifeSign] = {}
    for d in decisions:
        if d.device_pk not in latest or d.occurred_at >= latest[d.device_pk].occurred_at:
            latest[d.device_pk] = d
    with connection.cursor() as cursor:
        facts = _life_facts(cursor, sorted(latest))
        last_logged = {pk: fact[2] for pk, fact in facts.items()}
        history: list[tuple] = []
        for d in decisions:
            logged = last_logged.get(d.device_pk)
            client_id, bound_at, _ = facts.get(d.device_pk, (None, None, None))
            if bound_at is not None and logged is not None and logged < bound_at <= d.occurred_at:
                logged = None  # the new client's history starts with their first sign, not thinned away
            if d.source == "sos" or logged is None or d.occurred_at - logged >= LIFE_SIGN_HISTORY_SPACING:
                history.append(
                    (
                        d.device_pk,
                        client_id if bound_at is None or d.occurred_at >= bound_at else None,
                        adapt(d.occurred_at),
                        d.source,
                        d.event_id,
                    )
                )
                last_logged[d.device_pk] = d.occurred_at if logged is None else max(logged, d.occurred_at)
        if history:
            # Foreign keys checked at once: the check share-locks each Device row, which must come
            # before the state rows are locked (decision 0112).
            with foreign_keys_checked_now():
                cursor.executemany(_HISTORY_SQL, history)
    return latest
