"""PostgreSQL telemetry partitions (decision 0101), on a PostgreSQL database of this test's own.

The migration runs on a database that already holds telemetry (migrated back to plain tables,
filled, then migrated forward): every row is kept and lands in its month's partition; the real
ingest code (`store_batch`) then inserts into the partitioned tables; device/time queries still
use the indexes and prune months; creating partitions ahead is idempotent and moves rows stranded
in the default partition; retention detaches and drops whole expired months only. Dates are
relative to the real clock (the command takes `--now` for the future), never fixed calendar dates.

The Django processes run as subprocesses with DATABASE_URL set (the suite's own database may be
SQLite); the test reads the catalogue directly with psycopg.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import pytest

from pingantong.gateway.partitions import MONTHS_AHEAD, PARTITIONED, add_months, month_start
from pingantong.testing.scratch_postgres import scratch_postgres

pytestmark = pytest.mark.timeout(600)

NOW = datetime.now(UTC)
"""The moment the scratch database is filled and migrated: set again by `pg`, not at import (a
run of the whole suite that crosses a month's end would otherwise expect the old month)."""
AGES_DAYS = (100, 40, 0)  # rows received 100 days ago, 40 days ago and now

FILL = """
import json
from datetime import timedelta
from django.utils import timezone
from pingantong.devices.actions import register_device
from pingantong.devices.models import DeviceEventRecord, PositionRecord, RawFrame, VitalsRecord
from pingantong.inventory.models import Installation
now = timezone.now()
device = register_device(protocol="watch", identity="3504990001", device_type="watch")
ids = {}
for age in AGES:
    at = now - timedelta(days=age)
    raw = RawFrame.objects.create(protocol="watch", device=device, device_identity="3504990001",
                                  received_at=at, data=b"[3G*3504990001*0002*LK]")
    ev = DeviceEventRecord.objects.create(device=device, protocol="watch", device_identity="3504990001",
                                          message="UD", kind="position", received_at=at, raw_frame=raw)
    PositionRecord.objects.create(device=device, recorded_at=at, received_at=at, event=ev,
                                  latitude=26.26, longitude=117.63, valid=True)
    VitalsRecord.objects.create(device=device, recorded_at=at, received_at=at, event=ev, heart_rate_bpm=70)
    ids[age] = [raw.pk, ev.pk]
print(json.dumps({"device": device.pk, "ids": ids}))
"""

INGEST = """
import json
from datetime import timedelta
from django.db import connection
from django.utils import timezone
from pingantong.devices.models import PositionRecord, RawFrame
from pingantong.gateway.events import DeviceEvent, Position
from pingantong.gateway.ingest import FrameIn, store_batch
now = timezone.now()
event = DeviceEvent(protocol="watch", device_id="3504990001", message="UD", kind="position",
                    device_time=now - timedelta(days=3), position=Position(26.3, 117.6, True))
frame = FrameIn("watch", b"[3G*3504990001*0010*UD,...]", [event], peer="test", identity="3504990001")
stored, handed = store_batch([frame], "partition-test")
with connection.cursor() as c:
    c.execute("SELECT tableoid::regclass::text, id FROM devices_rawframe WHERE id = %s", [stored[0].raw_frame_id])
    raw_part = c.fetchone()
    c.execute("SELECT tableoid::regclass::text FROM devices_positionrecord WHERE event_id = %s", [handed[0].event_id])
    position_part = c.fetchone()[0]
    c.execute("SET enable_seqscan = off")
    plans = {}
    device = PositionRecord.objects.get(event_id=handed[0].event_id).device_id
    recent = PositionRecord.objects.filter(device_id=device, received_at__gte=now - timedelta(days=1)).order_by("-recorded_at")
    plans["positions_of_a_device_lately"] = recent.explain()
    day = PositionRecord.objects.filter(device_id=device, recorded_at__range=(now - timedelta(days=4), now))
    plans["positions_of_a_device_by_device_time"] = day.explain()
    plans["latest_raw_frames_of_a_device"] = RawFrame.objects.filter(device_id=device).order_by("-received_at")[:10].explain()
print(json.dumps({"raw": raw_part, "position": position_part, "plans": plans}))
"""


@pytest.fixture(scope="module")
def pg(tmp_path_factory):
    import psycopg

    global NOW
    NOW = datetime.now(UTC)
    with scratch_postgres(f"pingantong_partitions_{os.getpid()}", tmp_path_factory.mktemp("var")) as db:
        db.manage("migrate", "-v0")  # partitioned from the start
        db.manage("migrate", "gateway", "0001", "-v0")  # back to plain tables (the reverse migration)
        filled = db.script(FILL, AGES=list(AGES_DAYS))
        db.manage("migrate", "-v0")  # forward again, now over existing rows
        with psycopg.connect(**db.admin, dbname=db.name, autocommit=True) as conn:
            yield db, conn, filled


def _attached(conn, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass(%s) ORDER BY 1",
        [table],
    ).fetchall()
    return [r[0] for r in rows]


def _month(table: str, moment: datetime) -> str:
    return f"{table}_p{month_start(moment):%Y%m}"


def test_migration_keeps_every_row_and_puts_it_in_its_months_partition(pg):
    _db, conn, filled = pg
    for table in PARTITIONED:
        kind = conn.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [table]).fetchone()[0]
        assert kind == "p", f"{table} is not partitioned"
        # Months from the table's oldest row (none was filled into sensor readings) to months ahead.
        ages = AGES_DAYS if table != "devices_sensorrecord" else (0,)
        expected = {_month(table, NOW - timedelta(days=a)) for a in ages}
        expected |= {f"{table}_p{add_months(month_start(NOW), m):%Y%m}" for m in range(MONTHS_AHEAD + 1)}
        assert expected | {f"{table}_default"} <= set(_attached(conn, table))
    for age, (raw_id, event_id) in filled["ids"].items():
        moment = NOW - timedelta(days=int(age))
        for table, pk in (("devices_rawframe", raw_id), ("devices_deviceeventrecord", event_id)):
            where = conn.execute(
                f"SELECT tableoid::regclass::text FROM {table} WHERE id = %s", [pk]
            ).fetchone()
            assert where == (_month(table, moment),)
    positions = conn.execute("SELECT COUNT(*) FROM devices_positionrecord").fetchone()[0]
    assert positions == len(AGES_DAYS)
    # The event still points at its raw frame, and no foreign key refers to a partitioned table.
    linked = conn.execute(
        "SELECT COUNT(*) FROM devices_deviceeventrecord e JOIN devices_rawframe r ON r.id = e.raw_frame_id"
    ).fetchone()[0]
    assert linked == len(AGES_DAYS)
    refs = conn.execute(
        "SELECT conrelid::regclass::text FROM pg_constraint WHERE contype = 'f' "
        "AND confrelid::regclass::text = ANY(%s)",
        [list(PARTITIONED)],
    ).fetchall()
    assert refs == []


def test_ingest_inserts_land_in_the_current_month_and_ids_continue(pg):
    db, _conn, filled = pg
    result = db.script(INGEST)
    raw_partition, raw_id = result["raw"]
    assert raw_partition == _month("devices_rawframe", NOW)
    assert raw_id > max(ids[0] for ids in filled["ids"].values())  # the sequence moved on with the copy
    # Partitioned by when we received it, not by the (3 days old) device time.
    assert result["position"] == _month("devices_positionrecord", NOW)
    plans = result["plans"]
    for name, plan in plans.items():
        assert "Seq Scan" not in plan, f"{name} does not use an index:\n{plan}"
    # A query bounded on received_at reads only the months it can touch (partition pruning).
    lately = plans["positions_of_a_device_lately"]
    assert _month("devices_positionrecord", NOW) in lately
    assert _month("devices_positionrecord", NOW - timedelta(days=100)) not in lately


def test_creating_partitions_ahead_is_idempotent_and_rescues_rows_from_the_default(pg):
    db, conn, _filled = pg
    far = add_months(month_start(NOW), MONTHS_AHEAD + 2)  # beyond every partition created so far
    conn.execute(
        "INSERT INTO devices_vitalsrecord (device_id, recorded_at, received_at, heart_rate_bpm) "
        "SELECT id, %s, %s, 71 FROM devices_device LIMIT 1",
        [far + timedelta(days=2), far + timedelta(days=2)],
    )
    stray = conn.execute(
        "SELECT tableoid::regclass::text FROM devices_vitalsrecord WHERE heart_rate_bpm = 71"
    )
    assert stray.fetchone() == ("devices_vitalsrecord_default",)
    first = json.loads(db.manage("telemetry_partitions", "--ahead", str(MONTHS_AHEAD + 2)))
    months = {f"p{add_months(month_start(NOW), m):%Y%m}" for m in (MONTHS_AHEAD + 1, MONTHS_AHEAD + 2)}
    assert sorted(first["created"]) == sorted(f"{t}_{m}" for t in PARTITIONED for m in months)
    moved = conn.execute(
        "SELECT tableoid::regclass::text FROM devices_vitalsrecord WHERE heart_rate_bpm = 71"
    )
    assert moved.fetchone() == (f"devices_vitalsrecord_p{far:%Y%m}",)
    again = json.loads(db.manage("telemetry_partitions", "--ahead", str(MONTHS_AHEAD + 2)))
    assert again == {"created": [], "dropped": []}


def test_retention_detaches_and_drops_only_whole_expired_months(pg):
    db, conn, _filled = pg
    later = NOW + timedelta(days=200)  # positions keep 180 days, events 730, vitals 730
    before = {t: set(_attached(conn, t)) for t in PARTITIONED}
    oldest_position = _month("devices_positionrecord", NOW - timedelta(days=100))
    # --detach-only first: the month leaves the table but its rows are kept for archiving.
    detached = json.loads(
        db.manage("telemetry_partitions", "--drop-expired", "--detach-only", "--now", later.isoformat())
    )
    assert oldest_position in detached["dropped"]
    assert oldest_position not in _attached(conn, "devices_positionrecord")
    assert conn.execute(f'SELECT COUNT(*) FROM "{oldest_position}"').fetchone()[0] == 1
    conn.execute(f'DROP TABLE "{oldest_position}"')  # what an operator does after archiving
    # Then a real drop at an even later date: raw frames (180 days) go too, events stay (2 years).
    much_later = NOW + timedelta(days=260)
    dropped = json.loads(db.manage("telemetry_partitions", "--drop-expired", "--now", much_later.isoformat()))
    cutoff_positions = much_later - timedelta(days=180)
    for name in dropped["dropped"]:
        assert conn.execute("SELECT to_regclass(%s)", [name]).fetchone() == (None,)
    for table in ("devices_positionrecord", "devices_rawframe"):
        for name in before[table] - {f"{table}_default"}:
            start = datetime.strptime(name.rsplit("_p", 1)[1], "%Y%m").replace(tzinfo=UTC)
            gone = name not in _attached(conn, table)
            assert gone == (add_months(start, 1) <= cutoff_positions), name
    # Events and vitals are kept two years: none of their months went (new ones were added ahead).
    for table in ("devices_deviceeventrecord", "devices_vitalsrecord"):
        assert before[table] <= set(_attached(conn, table)), table
    # The month the cutoff falls in is only partly expired: it stays (the nightly purge trims it).
    assert _month("devices_positionrecord", cutoff_positions) in _attached(conn, "devices_positionrecord")


@pytest.mark.django_db
def test_the_suites_own_database_keeps_working_with_the_command():
    """On SQLite (the embedded default) the tables stay plain and the command changes nothing; on
    PostgreSQL (when the suite runs there) the second run creates nothing."""
    from io import StringIO

    from django.core.management import call_command
    from django.db import connection

    def run() -> dict:
        out = StringIO()
        call_command("telemetry_partitions", "--drop-expired", stdout=out)
        return json.loads(out.getvalue())

    first = run()
    assert run() == {"created": [], "dropped": []}
    if connection.vendor == "sqlite":
        assert first == {"created": [], "dropped": []}
        with connection.cursor() as cursor:
            cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'devices_positionrecord'")
            assert "PARTITION" not in cursor.fetchone()[0].upper()


def test_no_model_declares_a_database_foreign_key_to_a_partitioned_table():
    """On PostgreSQL a partitioned table's keys include `received_at`, so a new foreign key to a
    raw frame or an event would make `migrate` fail there; catch it on any database (decision 0101)."""
    from django.apps import apps

    partitioned = {m for m in apps.get_models() if m._meta.db_table in PARTITIONED}
    offenders = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if field.is_relation and field.related_model in partitioned and field.db_constraint
    ]
    assert sorted(offenders) == []
