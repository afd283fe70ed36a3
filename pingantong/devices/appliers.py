"""Batch appliers of the state and life-sign decisions (run by the gateway's rules engine).

One conditional UPDATE per device, sent with executemany, whatever the number of events of the
batch: the newer fact wins inside the SQL (`CASE WHEN stored < new`), so nothing is read first and
a blind-area fix older than the stored one does not move the device back. Rows are created on
first sight (INSERT … ON CONFLICT DO NOTHING) for devices created outside `register_device`.

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
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Max
from django.utils import timezone

from pingantong.devices.models import Device, DeviceState, LifeSign
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

STATE_SQL = (
    f'UPDATE "{_T}" SET '  # noqa: S608 - table names from model meta, values bound
    f'"last_message_at" = {_newer("last_message_at")}, '
    f'"last_device_seen_at" = {_newer("last_device_seen_at")}, '
    '"battery_pct" = COALESCE(%s, "battery_pct"), '
    '"signal_pct" = COALESCE(%s, "signal_pct"), '
    '"steps" = COALESCE(%s, "steps"), '
    f'"latitude" = CASE WHEN {_FIX} THEN %s ELSE "latitude" END, '
    f'"longitude" = CASE WHEN {_FIX} THEN %s ELSE "longitude" END, '
    f'"position_valid" = CASE WHEN {_FIX} THEN %s ELSE "position_valid" END, '
    f'"position_at" = CASE WHEN {_FIX} THEN %s ELSE "position_at" END, '
    '"updated_at" = %s '
    'WHERE "device_id" = %s'
)


def apply_device_state_updates(decisions: Sequence[UpdateDeviceState]) -> None:
    """Coalesce a batch's decisions per device (in order), then one UPDATE per device."""
    adapt = connection.ops.adapt_datetimefield_value
    merged: dict[int, dict[str, Any]] = {}
    for d in decisions:
        m = merged.setdefault(
            d.device_pk, {"seen": d.seen_at, "battery": None, "signal": None, "steps": None, "position": None}
        )
        m["seen"] = max(m["seen"], d.seen_at)
        if d.battery_pct is not None:
            m["battery"] = max(0, min(100, d.battery_pct))
        if d.signal_pct is not None:
            m["signal"] = max(0, min(100, d.signal_pct))
        if d.steps is not None:
            m["steps"] = max(0, d.steps)
        if d.position is not None and (m["position"] is None or d.position[3] >= m["position"][3]):
            m["position"] = d.position
    now = adapt(timezone.now())
    rows = []
    for pk, m in sorted(merged.items()):  # ascending device_id: the global lock order
        seen = adapt(m["seen"])
        lat, lon, valid, at = m["position"] if m["position"] is not None else (None, None, None, None)
        at_db = adapt(at) if at is not None else None
        rows.append(
            (
                seen,
                seen,
                seen,
                seen,
                m["battery"],
                m["signal"],
                m["steps"],
                *(at_db, at_db, at_db, lat),
                *(at_db, at_db, at_db, lon),
                *(at_db, at_db, at_db, valid),
                *(at_db, at_db, at_db, at_db),
                now,
                pk,
            )
        )
    # A row created here share-locks its Device row at once, before the state rows are locked.
    with foreign_keys_checked_now(), connection.cursor() as cursor:
        _ensure_rows(cursor, set(merged), now)
        cursor.executemany(STATE_SQL, rows)


LIFE_SQL = (
    f'UPDATE "{_T}" SET '  # noqa: S608 - table names from model meta, values bound
    '"last_life_sign_source" = CASE WHEN "last_life_sign_at" IS NULL OR "last_life_sign_at" <= %s '
    'THEN %s ELSE "last_life_sign_source" END, '
    f'"last_life_sign_at" = {_newer("last_life_sign_at")} '
    'WHERE "device_id" = %s AND ("bound_at" IS NULL OR "bound_at" <= %s)'
)
"""A sign from before the device's current binding (the previous client's, arriving late) is kept
in the history but does not move the state: it proves nothing of the client bound now."""


def _bindings(device_pks: list[int]) -> dict[int, tuple[Any, datetime | None]]:
    """(bound client, binding time) of each device, to name the client of each history row."""
    return {
        pk: (client_id, bound_at)
        for pk, client_id, bound_at in Device.objects.filter(pk__in=device_pks).values_list(
            "pk", "client_id", "state__bound_at"
        )
    }


def record_life_signs(decisions: Sequence[RecordLifeSign]) -> None:
    """Move `last_life_sign_at` forward and keep a thinned history (`LifeSign`; every SOS kept)."""
    adapt = connection.ops.adapt_datetimefield_value
    latest: dict[int, RecordLifeSign] = {}
    for d in decisions:
        if d.device_pk not in latest or d.occurred_at >= latest[d.device_pk].occurred_at:
            latest[d.device_pk] = d
    last_logged: dict[int, datetime | None] = dict(
        LifeSign.objects.filter(device_id__in=list(latest))
        .values("device_id")
        .annotate(last=Max("occurred_at"))
        .values_list("device_id", "last")
    )
    bindings = _bindings(list(latest))
    history: list[LifeSign] = []
    for d in decisions:
        logged = last_logged.get(d.device_pk)
        client_id, bound_at = bindings.get(d.device_pk, (None, None))
        if bound_at is not None and logged is not None and logged < bound_at <= d.occurred_at:
            logged = None  # the new client's history starts with their first sign, not thinned away
        if d.source == "sos" or logged is None or d.occurred_at - logged >= LIFE_SIGN_HISTORY_SPACING:
            history.append(
                LifeSign(
                    device_id=d.device_pk,
                    client_id=client_id if bound_at is None or d.occurred_at >= bound_at else None,
                    occurred_at=d.occurred_at,
                    source=d.source,
                    event_id=d.event_id,
                )
            )
            last_logged[d.device_pk] = d.occurred_at if logged is None else max(logged, d.occurred_at)
    rows = []
    for pk, d in sorted(latest.items()):  # ascending device_id: the global lock order
        at = adapt(d.occurred_at)
        rows.append((at, d.source, at, at, pk, at))
    # History first, its foreign keys checked at once: the check share-locks each Device row, which
    # rebinding locks before the DeviceState row; taken after the state rows, the two could deadlock.
    with foreign_keys_checked_now():
        LifeSign.objects.bulk_create(history)
        with connection.cursor() as cursor:
            _ensure_rows(cursor, set(latest), adapt(timezone.now()))
            cursor.executemany(LIFE_SQL, rows)
