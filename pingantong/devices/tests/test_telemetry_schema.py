"""The telemetry tables' references to the device registry (decision 0124).

At the gateway's full load every stored frame writes a raw frame, an event and a position row. On
PostgreSQL a database foreign key from each to the device row cost a row lock on the device
(`SELECT … FOR KEY SHARE`) per inserted row, ~14 µs of server CPU per message for the three; on
SQLite a (device, time) index on raw frames put one more random page into every commit per frame.
Neither is in the schema any more; what a device's deletion does is Django's to apply.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from pingantong.devices.actions import register_device
from pingantong.devices.models import (
    Device,
    DeviceEventRecord,
    PositionRecord,
    RawFrame,
    SensorRecord,
    VitalsRecord,
)

pytestmark = pytest.mark.django_db

TELEMETRY = (RawFrame, DeviceEventRecord, PositionRecord, VitalsRecord, SensorRecord)


def _foreign_keys_to_devices(table: str) -> list[str]:
    """The database's own foreign key constraints from `table` to the device registry."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT conname FROM pg_constraint WHERE contype = 'f' "
                "AND conrelid = to_regclass(%s) AND confrelid = to_regclass(%s)",
                [table, Device._meta.db_table],
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f'PRAGMA foreign_key_list("{table}")')
        return [row[3] for row in cursor.fetchall() if row[2] == Device._meta.db_table]


def _indexed_columns(table: str) -> list[tuple[str, ...]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return [tuple(c["columns"]) for c in constraints.values() if c["index"] and not c["primary_key"]]


@pytest.mark.parametrize("model", TELEMETRY, ids=lambda m: m.__name__)
def test_no_telemetry_table_holds_a_database_constraint_to_the_device_registry(model):
    assert _foreign_keys_to_devices(model._meta.db_table) == []


def test_raw_frames_are_indexed_by_time_only_and_events_and_positions_by_device_and_time():
    assert not [cols for cols in _indexed_columns(RawFrame._meta.db_table) if "device_id" in cols]
    assert ("device_id", "received_at") in _indexed_columns(DeviceEventRecord._meta.db_table)
    assert ("device_id", "recorded_at") in _indexed_columns(PositionRecord._meta.db_table)


def test_deleting_a_device_keeps_its_raw_frames_as_received_and_clears_or_removes_the_rest():
    device = register_device(protocol="watch", identity="8800000001", device_type="watch")
    other = register_device(protocol="watch", identity="8800000002", device_type="watch")
    now = timezone.now()
    frame = RawFrame.objects.create(protocol="watch", device=device, received_at=now, data=b"[3G*...]")
    event = DeviceEventRecord.objects.create(
        device=device,
        protocol="watch",
        device_identity=device.identity,
        message="UD",
        kind="position",
        received_at=now,
        raw_frame=frame,
    )
    PositionRecord.objects.create(
        device=device,
        recorded_at=now,
        received_at=now,
        event=event,
        latitude=26.1,
        longitude=117.6,
        valid=True,
    )
    kept = PositionRecord.objects.create(
        device=other, recorded_at=now, received_at=now, latitude=26.2, longitude=117.7, valid=True
    )
    device_pk = device.pk

    device.delete()

    # The audit record of what arrived still says which device it was stored under.
    assert RawFrame.objects.get(pk=frame.pk).device_id == device_pk
    event.refresh_from_db()
    assert event.device_id is None and event.raw_frame_id == frame.pk
    assert list(PositionRecord.objects.values_list("pk", flat=True)) == [kept.pk]
