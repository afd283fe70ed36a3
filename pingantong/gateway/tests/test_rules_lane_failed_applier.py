"""A stored SOS is never silently dropped by the rules stage (S01, decision 0113): when an applier
fails for good (not a deadlock: those are retried at once, decision 0112), the events whose
decisions it did not apply stay unprocessed, the engine applies those decisions again after a pause,
and a rules process that restarts meanwhile finds the events still waiting. Before, the batch was
marked processed whatever its appliers did, and the alarm was lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import DatabaseError, connection

from pingantong.alarms.models import Alarm
from pingantong.devices.actions import register_device
from pingantong.devices.models import DeviceState, LifeSign
from pingantong.gateway import pipeline
from pingantong.gateway.events import DeviceEvent, Position
from pingantong.gateway.ingest import FrameIn, store_batch
from pingantong.gateway.ingest.consumer import RulesConsumer
from pingantong.gateway.tests.gwtools import ensure_reference_data, queued

pytestmark = pytest.mark.django_db(transaction=True)

NODE = "failing-node"


@pytest.fixture(autouse=True)
def _reference_data():
    ensure_reference_data()


class Broken:
    """An execute wrapper failing every statement that starts with `prefix` (a disk error, a
    constraint, a bug: anything but a deadlock) until `healed`."""

    def __init__(self, prefix: str, *, containing: str = "") -> None:
        self.prefix = prefix
        self.containing = containing
        self.healed = False
        self.fired = 0

    def __call__(self, execute, sql, params, many, context):
        if not self.healed and sql.lstrip().startswith(self.prefix) and self.containing in sql:
            self.fired += 1
            raise DatabaseError("disk I/O error")
        return execute(sql, params, many, context)


def _frame(identity: str, *, alarms: list[str], minutes_ago: int) -> FrameIn:
    event = DeviceEvent(
        protocol="watch",
        device_id=identity,
        message="AL" if alarms else "UD",
        kind="alarm" if alarms else "position",
        alarms=alarms,
        battery_pct=55,
        device_time=datetime.now(UTC) - timedelta(minutes=minutes_ago),
        position=Position(26.26, 117.63, True),
    )
    return FrameIn("watch", b"[x]", [event], identity=identity)


def _unprocessed() -> list[int]:
    return queued(NODE)


def test_an_sos_whose_alarm_failed_stays_unprocessed_and_is_raised_when_the_database_recovers():
    device = register_device(protocol="watch", identity="8700000001", device_type="watch")
    register_device(protocol="watch", identity="8700000002", device_type="watch")
    _s, handed = store_batch(
        [
            _frame("8700000002", alarms=[], minutes_ago=3),
            _frame("8700000001", alarms=["sos"], minutes_ago=2),
        ],
        NODE,
    )
    sos_id = handed[1].event_id
    broken = Broken(f'INSERT INTO "{Alarm._meta.db_table}"')
    consumer = RulesConsumer(NODE)
    with connection.execute_wrapper(broken):
        consumer.run_until_empty()
        assert broken.fired >= 1
        assert not Alarm.objects.exists()
        assert _unprocessed() == [sos_id], "only the SOS, whose alarm failed, waits"
        assert consumer.engine.applier_failures >= 1 and consumer.engine.has_failed()
        # Its other decisions were applied (once): the life sign and the state.
        assert LifeSign.objects.filter(device=device, source="sos").count() == 1
        assert DeviceState.objects.get(device=device).last_life_sign_source == "sos"
        # Still failing: tried again, still waiting, nothing dropped.
        assert consumer.engine.retry_failed(force=True) == 0
        assert _unprocessed() == [sos_id]

    broken.healed = True
    assert consumer.engine.retry_failed(force=True) == 1
    assert Alarm.objects.filter(device=device, alarm_type="sos").count() == 1
    assert _unprocessed() == []
    assert not consumer.engine.has_failed()
    assert LifeSign.objects.filter(device=device, source="sos").count() == 1, "only the failed decision again"
    assert consumer.run_until_empty() == 0


def test_a_failed_sos_survives_a_restart_of_the_rules_process():
    """The process dies while the alarm still fails: the next one finds the SOS unprocessed."""
    device = register_device(protocol="watch", identity="8700000003", device_type="watch")
    _s, handed = store_batch([_frame("8700000003", alarms=["sos"], minutes_ago=1)], NODE)
    broken = Broken(f'INSERT INTO "{Alarm._meta.db_table}"')
    with connection.execute_wrapper(broken):
        RulesConsumer(NODE).run_until_empty()
    assert _unprocessed() == [handed[0].event_id]

    restarted = RulesConsumer(NODE)
    assert restarted.run_until_empty() == 1
    assert Alarm.objects.filter(device=device, alarm_type="sos").count() == 1
    assert _unprocessed() == []


def test_a_failed_batch_applier_keeps_its_events_and_retries_only_itself():
    """The device-state applier fails for a batch: its events wait, the alarm (applied) is not
    raised again when the state is applied on the retry."""
    device = register_device(protocol="watch", identity="8700000004", device_type="watch")
    _s, handed = store_batch([_frame("8700000004", alarms=["sos"], minutes_ago=1)], NODE)
    seen: list[int] = []

    def counting(event, ctx):
        seen.append(ctx.event_id)
        return []

    pipeline.register_rule(counting)
    broken = Broken(f'UPDATE "{DeviceState._meta.db_table}"', containing='"last_message_at" = ')
    try:
        consumer = RulesConsumer(NODE)
        with connection.execute_wrapper(broken):
            consumer.run_until_empty()
        assert _unprocessed() == [handed[0].event_id]
        assert Alarm.objects.filter(device=device).count() == 1
        assert DeviceState.objects.get(device=device).battery_pct is None
        broken.healed = True
        assert consumer.engine.retry_failed(force=True) == 1
    finally:
        pipeline.unregister(counting)
    assert DeviceState.objects.get(device=device).battery_pct == 55
    assert Alarm.objects.get(device=device).occurrences == 1
    assert seen == [handed[0].event_id], "the rules ran once; only the failed applier again"
    assert _unprocessed() == []
