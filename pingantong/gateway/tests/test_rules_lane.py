"""The rules stage's priority lane (S01, decision 0113): an SOS (or fall, smoke, gas) committed while
the rules are seconds behind is run at once, ahead of the backlog, in the rules process
(`RulesConsumer`) and in the rules thread (`RulesEngine.process_urgent`); the backlog processed
afterwards neither runs it a second time nor puts the device's state back to older data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pingantong.alarms.choices import DEFAULT_PRIORITY
from pingantong.alarms.models import Alarm
from pingantong.devices.actions import register_device
from pingantong.devices.models import DeviceState, LifeSign, UnprocessedEvent
from pingantong.gateway import pipeline
from pingantong.gateway.events import DeviceEvent, Position
from pingantong.gateway.ingest import FrameIn, store_batch
from pingantong.gateway.ingest.consumer import RulesConsumer
from pingantong.gateway.pipeline import RulesEngine, StoredEvent
from pingantong.gateway.tests.gwtools import ensure_reference_data, is_processed, queued

pytestmark = pytest.mark.django_db(transaction=True)

NODE = "lane-node"
BACKLOG = 3000
SOS_ID = "8900000001"
T0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
"""Two hours ago at most three: well inside the rules process's first look-back for calls for
help (LANE_FIRST_WINDOW, 6 h), and in the past, whatever the day the suite runs."""


@pytest.fixture(autouse=True)
def _reference_data():
    ensure_reference_data()


def _report(identity: str, i: int, *, battery: int, lat: float) -> FrameIn:
    """An ordinary position report, the i-th of the backlog (received and measured at T0 + i s)."""
    at = T0 + timedelta(seconds=i)
    event = DeviceEvent(
        protocol="watch",
        device_id=identity,
        message="UD",
        kind="position",
        device_time=at,
        position=Position(lat, 117.63, True),
        battery_pct=battery,
        steps=100 + i,
    )
    return FrameIn("watch", b"[UD]", [event], identity=identity, received_at=at)


def _sos(identity: str, *, alarms: list[str] | None = None) -> FrameIn:
    at = T0 + timedelta(seconds=BACKLOG + 10)
    event = DeviceEvent(
        protocol="watch",
        device_id=identity,
        message="AL",
        kind="alarm",
        alarms=alarms or ["sos"],
        device_time=at,
        position=Position(26.5, 117.9, True),
        battery_pct=40,
        steps=5,  # a count below the older reports' (the watch reset it): must still win, being newest
    )
    return FrameIn("watch", b"[AL]", [event], identity=identity, received_at=at)


def _backlog() -> tuple[list[StoredEvent], list[StoredEvent]]:
    """Thousands of stored, unprocessed reports (the SOS watch's own among them, older and with
    another battery, steps and position), then the SOS committed last."""
    for n in range(10):
        register_device(protocol="watch", identity=f"89000000{n:02d}", device_type="watch")
    handed: list[StoredEvent] = []
    frames = [_report(f"89000000{i % 10:02d}", i, battery=80, lat=26.0 + i / 1e5) for i in range(BACKLOG)]
    for start in range(0, BACKLOG, 500):
        handed += store_batch(frames[start : start + 500], NODE)[1]
    _stored, sos = store_batch([_sos(SOS_ID)], NODE)
    return handed, sos


def _unprocessed() -> int:
    return len(queued(NODE))


def _assert_sos_state_kept() -> None:
    state = DeviceState.objects.get(device__identity=SOS_ID)
    assert state.battery_pct == 40, "an older report put its battery back over the SOS's"
    assert state.steps == 5, "an older report put its steps back over the SOS's"
    assert (state.latitude, state.longitude) == (pytest.approx(26.5), pytest.approx(117.9))
    assert state.last_life_sign_source == "sos"
    assert state.last_life_sign_at == T0 + timedelta(seconds=BACKLOG + 10)
    assert state.last_message_at == T0 + timedelta(seconds=BACKLOG + 10)


class _Seen:
    """A rule that records which events the engine ran (and how often)."""

    def __init__(self) -> None:
        self.ids: list[int] = []

    def __call__(self, event, ctx):
        self.ids.append(ctx.event_id)
        return []


@pytest.fixture
def seen():
    rule = _Seen()
    rule.__name__ = "seen"  # type: ignore[attr-defined]
    pipeline.register_rule(rule)
    yield rule
    pipeline.unregister(rule)


def test_the_rules_process_raises_an_sos_ahead_of_thousands_of_older_events(seen):
    _handed, sos = _backlog()
    sos_id = sos[0].event_id
    consumer = RulesConsumer(NODE, batch=250)

    consumer.run_once()  # one pass: the lane, then one batch of the backlog

    alarm = Alarm.objects.get(device__identity=SOS_ID)
    assert alarm.alarm_type == "sos" and alarm.source_event_ids == [str(sos_id)]
    assert is_processed(sos_id)
    assert _unprocessed() == BACKLOG - 250, "the backlog is still waiting behind the SOS"
    assert seen.ids[0] == sos_id, "the SOS ran first"
    _assert_sos_state_kept()

    consumer.run_until_empty()  # the backlog, older than the SOS, afterwards

    assert _unprocessed() == 0
    assert seen.ids.count(sos_id) == 1, "the SOS ran once"
    assert len(seen.ids) == BACKLOG + 1 and sorted(seen.ids[1:]) == seen.ids[1:], "the rest in order"
    alarm.refresh_from_db()
    assert Alarm.objects.count() == 1 and alarm.occurrences == 1, "no second alarm, no repeat"
    assert LifeSign.objects.filter(device__identity=SOS_ID, source="sos").count() == 1
    _assert_sos_state_kept()
    # The other watches' state followed their own reports, in order, up to the last one.
    last = DeviceState.objects.get(device__identity="8900000009")
    assert last.battery_pct == 80 and last.steps == 100 + BACKLOG - 1


def test_a_restarted_rules_process_runs_the_backlogs_calls_for_help_first(seen):
    """After a crash with a backlog, the SOS inside it does not wait for everything before it."""
    _handed, sos = _backlog()
    store_batch([_report("8900000003", BACKLOG + 20, battery=70, lat=26.1)], NODE)  # after the SOS
    consumer = RulesConsumer(NODE, batch=250)
    assert consumer.run_lane() == 1
    assert seen.ids == [sos[0].event_id]
    assert Alarm.objects.filter(device__identity=SOS_ID, alarm_type="sos").count() == 1
    assert consumer.run_lane() == 0, "nothing new: the lane found nothing to do"


def test_the_rules_thread_runs_an_sos_out_of_turn_and_skips_it_in_the_backlog(seen):
    """Thread mode: the gateway hands the SOS's batch to `process_urgent` as well as to the rules
    thread's queue; the queue, reaching it, skips it."""
    handed, sos = _backlog()
    engine = RulesEngine()

    assert [i.event_id for i in engine.process_urgent(handed[:500] + sos)] == [sos[0].event_id]
    assert Alarm.objects.filter(device__identity=SOS_ID).count() == 1
    assert _unprocessed() == BACKLOG
    _assert_sos_state_kept()

    for start in range(0, BACKLOG, 250):
        engine.process(handed[start : start + 250])
    engine.process(sos)  # the rules thread's queue reaches the SOS's own batch

    assert seen.ids.count(sos[0].event_id) == 1
    assert _unprocessed() == 0
    assert Alarm.objects.count() == 1 and Alarm.objects.get().occurrences == 1
    _assert_sos_state_kept()
    assert engine.urgent_processed == 1 and engine.processed == BACKLOG + 1


def test_the_lane_leaves_an_sos_to_the_batch_already_running_it(seen):
    """Thread mode: when the rules thread is already running the batch holding the SOS, the lane
    does not run it a second time beside it."""
    register_device(protocol="watch", identity=SOS_ID, device_type="watch")
    _stored, sos = store_batch([_sos(SOS_ID)], NODE)
    engine = RulesEngine()
    lane_ran: list[list[StoredEvent]] = []

    def lane_during_the_batch(event, ctx):
        lane_ran.append(engine.process_urgent(sos))
        return []

    pipeline.register_rule(lane_during_the_batch)
    try:
        engine.process(sos)
    finally:
        pipeline.unregister(lane_during_the_batch)
    assert lane_ran == [[]]
    assert seen.ids == [sos[0].event_id]
    assert Alarm.objects.count() == 1


def test_urgent_alarms_are_the_alarm_centres_most_urgent_types():
    """The lane takes exactly the priority-1 alarm types (call for help, fall, smoke, gas)."""
    assert {t for t, p in DEFAULT_PRIORITY.items() if p == 1} == pipeline.URGENT_ALARMS

    def event(alarms: list[str]) -> DeviceEvent:
        return DeviceEvent(protocol="watch", device_id="1", message="AL", kind="alarm", alarms=alarms)

    assert pipeline.is_urgent(event(["low_battery", "fall"]))
    assert pipeline.is_urgent(event(["gas"]))
    assert not pipeline.is_urgent(event(["low_battery", "removed", "geofence_exit"]))
    assert not pipeline.is_urgent(event([]))


def test_an_sos_the_lane_could_not_run_is_left_to_the_rules_thread(seen):
    """The lane fails (its database call raises): the rules thread's queue still runs the SOS."""
    from django.db import DatabaseError, connection

    register_device(protocol="watch", identity=SOS_ID, device_type="watch")
    _stored, sos = store_batch([_sos(SOS_ID)], NODE)
    engine = RulesEngine()
    marking = f'DELETE FROM "{UnprocessedEvent._meta.db_table}"'

    def fail_marking(execute, sql, params, many, context):
        if sql.startswith(marking):
            raise DatabaseError("disk I/O error")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(fail_marking), pytest.raises(DatabaseError):
        engine.process_urgent(sos)
    engine.process(sos)
    assert seen.ids == [sos[0].event_id] * 2, "run again by the rules thread, not skipped"
    assert _unprocessed() == 0
    assert Alarm.objects.filter(device__identity=SOS_ID, alarm_type="sos").exists()


def test_the_gateways_rules_thread_mode_raises_an_sos_while_its_rules_thread_is_busy():
    """Thread mode (the embedded default), through the ingestor: while the rules thread is stuck in
    a slow batch, a stored SOS reaches the rules at once through the lane (and its alarm is
    raised); the rules thread, when it gets there, does not run it again."""
    import asyncio
    import threading

    from pingantong.gateway.ingest import Ingestor

    register_device(protocol="watch", identity=SOS_ID, device_type="watch")
    register_device(protocol="watch", identity="8900000002", device_type="watch")
    release = threading.Event()
    slow_started = threading.Event()
    ran: list[tuple[str, str]] = []

    def slow_then_record(event, ctx):
        ran.append((event.device_id, event.kind))
        if event.kind == "position":
            slow_started.set()
            release.wait(20)  # the rules thread is busy with a backlog
        return []

    slow_then_record.__name__ = "slow_then_record"  # type: ignore[attr-defined]

    def _sos_alarm_raised() -> bool:
        from django.db import connection

        try:
            return Alarm.objects.filter(alarm_type="sos").exists()
        finally:
            connection.close()  # this helper thread's own connection

    pipeline.register_rule(slow_then_record)

    async def scenario():
        ingestor = Ingestor(node=NODE, rules="thread")
        await ingestor.start()
        try:
            await ingestor.submit([_report("8900000002", 1, battery=80, lat=26.0)])
            loop = asyncio.get_running_loop()
            assert await loop.run_in_executor(None, slow_started.wait, 10)
            await ingestor.submit([_sos(SOS_ID)])
            deadline = loop.time() + 10
            while not await loop.run_in_executor(None, _sos_alarm_raised):
                assert loop.time() < deadline, "the SOS waited for the rules thread"
                await asyncio.sleep(0.05)
            sos_runs_while_busy = ran.count((SOS_ID, "alarm"))
        finally:
            release.set()
            await ingestor.drain_rules()
            await ingestor.stop()
        return sos_runs_while_busy

    try:
        runs_while_busy = asyncio.run(scenario())
    finally:
        pipeline.unregister(slow_then_record)
    assert runs_while_busy == 1
    assert ran.count((SOS_ID, "alarm")) == 1, "the rules thread ran the SOS a second time"
    assert _unprocessed() == 0
