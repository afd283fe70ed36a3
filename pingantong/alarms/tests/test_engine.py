"""The alarm rules inside the gateway's rules stage: a stored event becomes an alarm or a signal."""

from __future__ import annotations

import pytest
from django.utils import timezone

from pingantong.alarms.models import Alarm, Signal
from pingantong.gateway.events import DeviceEvent, Position
from pingantong.gateway.pipeline import RulesEngine, StoredEvent

pytestmark = pytest.mark.django_db


def run(*events, device=None):
    """Store the events as the ingestor does, then run the rules stage on them."""
    from pingantong.devices.models import DeviceEventRecord

    engine = RulesEngine()
    now = timezone.now()
    stored = []
    for e in events:
        record = DeviceEventRecord.objects.create(
            device=device,
            protocol=e.protocol,
            device_identity=e.device_id,
            message=e.message,
            kind=e.kind,
            alarms=list(e.alarms),
            received_at=now,
            payload=e.to_json(),
        )
        stored.append(StoredEvent(e, record.pk, now, device))
    engine.process(stored)
    return engine


def sos(device_id="6907919734", **kw):
    return DeviceEvent(
        protocol="watch",
        device_id=device_id,
        message="AL_LTE",
        kind="alarm",
        alarms=["sos"],
        position=Position(26.2634, 117.6389, True),
        **kw,
    )


def test_sos_from_unknown_terminal_raises_unbound_alarm_at_district():
    engine = run(sos())
    alarm = Alarm.objects.get()
    assert engine.applier_failures == 0
    assert alarm.alarm_type == "sos" and alarm.from_unbound_device and alarm.region_id == "350404000000"
    assert alarm.device_ident == "6907919734" and len(alarm.source_event_ids) == 1
    assert alarm.latitude == pytest.approx(26.2634)


def test_repeated_sos_presses_join_one_alarm():
    run(sos(), sos(), sos())
    alarm = Alarm.objects.get()
    assert alarm.occurrences == 3 and alarm.priority == 1 and len(alarm.source_event_ids) == 3


def test_low_battery_is_a_signal_not_an_alarm():
    run(DeviceEvent(protocol="watch", device_id="1", message="AL", kind="alarm", alarms=["low_battery"]))
    assert Alarm.objects.count() == 0 and Signal.objects.get().signal_type == "low_battery"


def test_smoke_sensor_raises_smoke_alarm():
    run(
        DeviceEvent(
            protocol="mqtt", device_id="0x00158d0001", message="state", kind="sensor", sensor={"smoke": True}
        )
    )
    assert Alarm.objects.get().alarm_type == "smoke"


def test_heartbeat_raises_nothing():
    run(DeviceEvent(protocol="watch", device_id="1", message="LK", kind="heartbeat", battery_pct=80))
    assert Alarm.objects.count() == 0 and Signal.objects.count() == 0


@pytest.fixture
def watch(elder):
    from pingantong.devices.actions import bind_device, register_device

    device = register_device(protocol="watch", identity="4700186508", device_type="watch")
    return bind_device(device=device, client=elder)


def test_sos_from_bound_watch_belongs_to_the_client_and_their_village(watch, elder):
    run(sos("4700186508"), device=watch)
    alarm = Alarm.objects.get()
    assert alarm.client == elder and alarm.device == watch and alarm.region_id == elder.region_id
    assert not alarm.from_unbound_device


def test_geofence_exit_through_pipeline_needs_stored_history_outside(watch, elder):
    from datetime import timedelta

    from pingantong.alarms.models import AlarmSettings
    from pingantong.devices.models import PositionRecord

    AlarmSettings.objects.create(
        client=elder,
        safe_areas=[{"name": "家", "circle": [26.2634, 117.6389, 300]}],
        geofence_dwell_seconds=300,
    )
    now = timezone.now()
    far = 26.2634 + 0.01

    def fix(lat, at):
        return DeviceEvent(
            protocol="watch",
            device_id="4700186508",
            message="UD",
            kind="position",
            device_time=at,
            position=Position(lat, 117.6389, True, satellites=9),
        )

    run(fix(far, now), device=watch)
    assert Alarm.objects.count() == 0  # just left: no dwell yet
    for minutes in (7, 5, 3, 1):
        PositionRecord.objects.create(
            device=watch,
            recorded_at=now - timedelta(minutes=minutes),
            received_at=now,
            latitude=far,
            longitude=117.6389,
            valid=True,
            satellites=9,
        )
    run(fix(far, now), device=watch)
    alarm = Alarm.objects.get()
    assert alarm.alarm_type == "geofence_exit" and alarm.client == elder


def test_pushed_step_records_the_alarm_sides_own_time(django_capture_on_commit_callbacks):
    """After the commit the new alarm is pushed from memory, and the `pushed` step carries the time
    the alarm side took (wall and CPU), which tells our cost apart from waiting for a core."""
    with django_capture_on_commit_callbacks(execute=True):
        run(sos())
    alarm = Alarm.objects.get()
    pushed = alarm.steps.get(kind="pushed")
    assert pushed.data["alarm_side_cpu_ms"] >= 0 and 0 < pushed.data["alarm_side_ms"] < 5000
    assert list(alarm.steps.order_by("at", "pk").values_list("kind", flat=True)) == ["raised", "pushed"]


def test_first_event_warms_the_alarm_path_in_the_background(monkeypatch):
    from pingantong.alarms import engine

    calls = []
    monkeypatch.setattr(engine, "_warm_started", False)
    monkeypatch.setattr(engine, "warm_up", lambda: calls.append("warm"))
    run(sos(), sos())
    import time

    deadline = time.monotonic() + 5
    while not calls and time.monotonic() < deadline:
        time.sleep(0.01)
    assert calls == ["warm"]  # once per process, not per event


def test_warm_up_loads_the_row_template():
    from django.template import engines

    from pingantong.alarms import engine

    engine.warm_up()
    assert engines["django"].engine.find_template("alarms/_row.html")


def test_a_batch_of_bound_clients_reports_reads_their_alarm_settings_once(client_factory, elder):
    """Each position report of a bound client needs the client's safe areas (S10): the rules stage
    reads the settings of every client of the batch in one query, not one per report (decision
    0113), and each report is still judged by its own client's areas."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from pingantong.alarms.models import AlarmSettings
    from pingantong.devices.actions import bind_device, register_device
    from pingantong.devices.models import DeviceEventRecord
    from pingantong.gateway.pipeline import DeviceRef

    engine = RulesEngine()
    now = timezone.now()
    stored = []
    for n in range(5):
        client = elder if n == 0 else client_factory(elder.region_id, name=f"测试老人甲{n}")
        # The first three live near the fix below; the last two ~7 km from it.
        centre = [26.30, 117.70] if n < 3 else [26.2634, 117.6389]
        AlarmSettings.objects.create(
            client=client,
            safe_areas=[{"name": "家", "circle": [*centre, 300]}],
            geofence_dwell_seconds=0,
        )
        device = register_device(protocol="watch", identity=f"47001865{n:02d}", device_type="watch")
        device = bind_device(device=device, client=client)
        event = DeviceEvent(
            protocol="watch",
            device_id=device.identity,
            message="UD",
            kind="position",
            device_time=now,
            position=Position(26.30, 117.70, True),
        )
        record = DeviceEventRecord.objects.create(
            device=device,
            protocol="watch",
            device_identity=device.identity,
            message="UD",
            kind="position",
            received_at=now,
            payload=event.to_json(),
        )
        stored.append(StoredEvent(event, record.pk, now, DeviceRef.of(device)))
    with CaptureQueriesContext(connection) as queries:
        engine.process(stored)
    table = AlarmSettings._meta.db_table
    assert sum(f'FROM "{table}"' in q["sql"] for q in queries.captured_queries) == 1
    exits = Alarm.objects.filter(alarm_type="geofence_exit")
    assert sorted(a.device.identity for a in exits) == ["4700186503", "4700186504"]
