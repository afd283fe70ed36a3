"""The rules stage outside the gateway's process (decision 0094): a consumer of committed events
runs them in order per device, each once, and resumes after a crash where it stopped; a gateway
with `rules="process"` still acknowledges only stored frames, and its child process applies the
registered rules (device state, life signs, the alarm centre's SOS)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from pingantong.devices.actions import register_device
from pingantong.devices.models import DeviceEventRecord, DeviceState, LifeSign
from pingantong.gateway import pipeline
from pingantong.gateway.events import DeviceEvent
from pingantong.gateway.ingest import FrameIn, Ingestor, store_batch
from pingantong.gateway.ingest.consumer import RulesConsumer
from pingantong.gateway.tests.gwtools import (
    Terminal,
    ensure_reference_data,
    is_processed,
    jt808_position,
    queued,
    running_gateway,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _reference_data():
    ensure_reference_data()


def _heartbeat(identity: str, steps: int) -> FrameIn:
    event = DeviceEvent(
        protocol="watch",
        device_id=identity,
        message="UD",
        kind="position",
        steps=steps,
        device_time=datetime.now(UTC) - timedelta(minutes=60 - steps),
    )
    return FrameIn("watch", f"[{identity}:{steps}]".encode(), [event], identity=identity)


def test_consumer_runs_committed_events_in_order_once_and_resumes_after_a_crash():
    for identity in ("71", "72"):
        register_device(protocol="watch", identity=identity, device_type="watch")
    # Four commits, the two devices interleaved; one event of another node that is not ours.
    for batch in range(4):
        store_batch([_heartbeat("71", batch * 2 + 1), _heartbeat("72", batch * 2 + 1)], "node-r")
        store_batch([_heartbeat("71", batch * 2 + 2)], "node-r")
    store_batch([_heartbeat("72", 99)], "other-node")
    seen: list[tuple[str, int, int]] = []

    def recorder(event, ctx):
        seen.append((event.device_id, event.steps or 0, ctx.event_id))
        return []

    pipeline.register_rule(recorder)
    try:
        first = RulesConsumer("node-r", batch=5)
        assert first.run_once() == 5
        assert first.run_once() == 5
        # The process dies here; a new one starts from what is still unprocessed.
        second = RulesConsumer("node-r", batch=5)
        assert second.run_until_empty() == 2
        assert second.run_until_empty() == 0
        assert RulesConsumer("node-r").run_until_empty() == 0
    finally:
        pipeline.unregister(recorder)

    ids = [event_id for _d, _s, event_id in seen]
    assert len(ids) == len(set(ids)) == 12, "every committed event exactly once"
    assert ids == sorted(ids), "in commit order"
    for identity in ("71", "72"):
        steps = [s for d, s, _ in seen if d == identity]
        assert steps == sorted(steps) and len(steps) == (8 if identity == "71" else 4)
    assert not queued("node-r")
    assert queued("other-node") == [DeviceEventRecord.objects.get(gateway_node="other-node").pk]
    # The real rules ran too: the device state holds the last steps, in order.
    assert DeviceState.objects.get(device__identity="71").steps == 8


class _Recorder:
    """A rule that records the ids of the events the engine ran."""

    __name__ = "recorder"

    def __init__(self) -> None:
        self.ids: list[int] = []

    def __call__(self, event, ctx):
        self.ids.append(ctx.event_id)
        return []


def test_each_stored_event_is_queued_for_the_rules_in_its_own_transaction_and_dequeued_once_run():
    """Decision 0132: the rules queue, not a mark on the event row."""
    register_device(protocol="watch", identity="74", device_type="watch")
    _stored, handed = store_batch([_heartbeat("74", n) for n in range(1, 4)], "node-q")
    ids = [item.event_id for item in handed]
    assert queued("node-q") == ids, "every stored event waits on the queue of its node"
    assert RulesConsumer("node-q").run_until_empty() == 3
    assert queued() == [] and all(is_processed(i) for i in ids)


def test_the_consumer_reads_scattered_queued_events_exactly_and_in_order():
    """After a restart the queue can hold a few old events far apart (a failed applier's) beside
    new ones: the consumer reads a range of ids only where the queued ids are close together, and
    never runs an event in that range that is not queued."""
    from pingantong.gateway.tests.gwtools import requeue

    register_device(protocol="watch", identity="75", device_type="watch")
    _stored, handed = store_batch([_heartbeat("75", n) for n in range(1, 21)], "node-g")
    ids = [item.event_id for item in handed]
    assert RulesConsumer("node-g").run_until_empty() == 20
    recorder = _Recorder()
    pipeline.register_rule(recorder)
    try:
        close = [ids[0], ids[2], ids[4]]  # a range of 5 ids holds them: read by range, 2 skipped
        requeue(DeviceEventRecord.objects.filter(pk__in=close))
        assert RulesConsumer("node-g").run_until_empty() == 3
        assert recorder.ids == close
        recorder.ids.clear()
        apart = [ids[0], ids[19]]  # 20 ids apart: read by id
        requeue(DeviceEventRecord.objects.filter(pk__in=apart))
        assert RulesConsumer("node-g").run_until_empty() == 2
        assert recorder.ids == apart
    finally:
        pipeline.unregister(recorder)
    assert queued("node-g") == []


def test_a_queued_event_no_longer_stored_is_taken_off_the_queue_and_the_rest_still_run(caplog):
    """A partition dropped under a node that never came back leaves queue rows without events."""
    register_device(protocol="watch", identity="76", device_type="watch")
    _stored, handed = store_batch([_heartbeat("76", n) for n in range(1, 4)], "node-x")
    ids = [item.event_id for item in handed]
    DeviceEventRecord.objects.filter(pk=ids[0]).delete()
    consumer = RulesConsumer("node-x", batch=1)  # the first batch holds only the missing event
    assert consumer.run_until_empty() == 2
    assert queued("node-x") == []
    assert any("no longer stored" in r.getMessage() for r in caplog.records)
    assert DeviceState.objects.get(device__identity="76").steps == 3


PHONE = bytes.fromhex("013912340071")


def _position(serial: int, *, sos: bool = False) -> bytes:
    return jt808_position(PHONE, serial, sos=sos)


def _wait_processed(deadline_s: float = 60.0) -> None:
    deadline = time.monotonic() + deadline_s
    while queued():
        assert time.monotonic() < deadline, "the rules process did not catch up"
        time.sleep(0.1)


def test_gateway_with_a_rules_process_acks_stored_frames_and_the_process_applies_the_rules():
    device = register_device(protocol="jt808", identity="13912340071", device_type="jt808_tracker")
    ingestor = Ingestor(node="test-node", rules="process")
    with running_gateway(ingestor=ingestor, ports={"jt808": 0}) as (gateway, ports, lt):
        assert gateway.ingestor.rules_process is not None
        term = Terminal(ports["jt808"])
        for serial in range(1, 4):
            term.send(_position(serial))
            term.read_frame_7e()
            # Stored before the ACK; processed by the other process, after the commit.
            assert DeviceEventRecord.objects.filter(device=device, serial=serial).exists()
        term.send(_position(4, sos=True))
        term.read_frame_7e()
        lt.run(gateway.ingestor.drain_rules(), timeout=120)
        assert not queued()
        state = DeviceState.objects.get(device=device)
        assert state.last_message_at is not None and state.latitude == pytest.approx(26.263406)
        assert LifeSign.objects.filter(device=device, source="sos").count() == 1
        from pingantong.alarms.models import Alarm

        assert Alarm.objects.filter(device=device).exists(), "the alarm centre's rule ran in the process"

        # A crash of the rules process: frames are still stored and acknowledged meanwhile, and
        # the restarted process (watchdog, within a second) processes them, once.
        gateway.ingestor.rules_process.kill()
        for serial in range(5, 8):
            term.send(_position(serial))
            term.read_frame_7e()
        _wait_processed()
        assert gateway.ingestor.rules_process.restarts == 1
        assert LifeSign.objects.filter(device=device, source="sos").count() == 1, "SOS not processed twice"
        gateway.ingestor.rules_process.drain()
        stats = gateway.ingestor.stats()
        assert stats["rules_mode"] == "process"
        # The rules process tunes its collector as the gateway does (decision 0120).
        from pingantong.gateway.gctune import GATEWAY_THRESHOLDS

        assert tuple(stats["gc_thresholds"]) == GATEWAY_THRESHOLDS
    assert DeviceEventRecord.objects.filter(device=device).count() == 7


def test_rules_mode_comes_from_the_setting(settings, monkeypatch):
    from pingantong.gateway.ingest import rules_mode

    monkeypatch.delenv("PINGANTONG_GATEWAY_RULES", raising=False)
    assert rules_mode() == "thread"
    settings.PINGANTONG_GATEWAY_RULES = "process"
    assert rules_mode() == "process"
    monkeypatch.setenv("PINGANTONG_GATEWAY_RULES", "bogus")
    with pytest.raises(ValueError):
        rules_mode()


def test_ingestor_in_process_mode_drains_on_stop():
    register_device(protocol="watch", identity="73", device_type="watch")

    async def scenario() -> None:
        ingestor = Ingestor(node="node-s", rules="process")
        await ingestor.start()
        await ingestor.submit([_heartbeat("73", 5)])
        await ingestor.stop()  # the process runs what was committed before it exits

    asyncio.run(scenario())
    assert is_processed(DeviceEventRecord.objects.get(gateway_node="node-s").pk)
    assert DeviceState.objects.get(device__identity="73").steps == 5
