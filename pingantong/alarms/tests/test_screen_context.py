"""The alarm screen reads only a device's last events: for an unknown terminal (no device row, no
index on the identity) a bounded id window around the alarm's own events, never the whole table."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pingantong.alarms import actions, context
from pingantong.devices.models import DeviceEventRecord

pytestmark = pytest.mark.django_db


def stored(identity, n, kind="position", alarms=()):
    now = timezone.now()
    return DeviceEventRecord.objects.create(
        protocol="watch",
        device_identity=identity,
        message="UD",
        kind=kind,
        alarms=list(alarms),
        received_at=now - timedelta(seconds=n),
        payload={},
    )


def test_unknown_terminal_screen_shows_its_own_last_events_in_an_id_window(monkeypatch):
    monkeypatch.setattr(context, "UNKNOWN_TERMINAL_ID_WINDOW", 5)
    old = stored("4700000001", 100)  # far back: outside the window
    for n in range(10):
        stored("4700000002", 50 - n)  # another terminal's events in between
    recent = [stored("4700000001", 3 - n) for n in range(3)]
    sos = stored("4700000001", 0, kind="alarm", alarms=["sos"])
    alarm = actions.raise_alarm(
        alarm_type="sos", device_ident="4700000001", source_event_id=sos.pk, from_unbound_device=True
    )
    with CaptureQueriesContext(connection) as queries:
        block = context._device_block(alarm)
    shown = [e.pk for e in block["events"]]
    assert shown == [sos.pk, *reversed([e.pk for e in recent])]
    assert old.pk not in shown
    event_query = next(q["sql"] for q in queries if "devices_deviceeventrecord" in q["sql"])
    assert f"{sos.pk - 5}" in event_query  # bounded by id: never a scan of every stored event


def test_unknown_terminal_without_source_events_uses_the_newest_ids():
    mine = [stored("4700000003", 5 - n) for n in range(4)]
    alarm = actions.raise_alarm(alarm_type="sos", device_ident="4700000003", from_unbound_device=True)
    assert {e.pk for e in context._device_block(alarm)["events"]} == {e.pk for e in mine}


def test_a_re_bound_watch_shows_only_the_alarms_own_clients_track_and_events():
    """Decision 0111: after a watch changes hands, the new wearer's alarm screen never shows the
    previous wearer's positions or events, and an alarm of the previous wearer shows only theirs."""
    from pingantong.clients.testing import make_client
    from pingantong.devices.actions import bind_device, register_device
    from pingantong.devices.models import PositionRecord

    now = timezone.now()
    watch = register_device(protocol="watch", identity="4700199777", device_type="watch")
    first, second = make_client(), make_client()
    bind_device(device=watch, client=first, now=now - timedelta(hours=6))

    def position(at, lat):
        event = DeviceEventRecord.objects.create(
            protocol="watch", device=watch, device_identity=watch.identity, message="UD", kind="position",
            alarms=[], received_at=at, payload={},
        )  # fmt: skip
        PositionRecord.objects.create(
            device=watch,
            recorded_at=at,
            received_at=at,
            event=event,
            latitude=lat,
            longitude=117.6,
            valid=True,
        )
        return event

    before = position(now - timedelta(hours=4), 26.1)
    old_alarm = actions.raise_alarm(alarm_type="sos", device=watch, client=first, at=now - timedelta(hours=3))
    bind_device(device=watch, client=second, now=now - timedelta(hours=2))
    after = position(now - timedelta(hours=1), 26.3)
    new_alarm = actions.raise_alarm(alarm_type="sos", device=watch, client=second, at=now)

    block = context._device_block(new_alarm)
    assert block["trail"] == [[26.3, 117.6]]
    assert [e.pk for e in block["events"]] == [after.pk]

    block = context._device_block(old_alarm)
    assert block["trail"] == [[26.1, 117.6]]
    assert [e.pk for e in block["events"]] == [before.pk]
