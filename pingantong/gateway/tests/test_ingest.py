"""Durable ingest: nothing is acknowledged that is not stored; SOS frames are never merged away;
the rules stage gets every stored event, in order, and survives a failing rule."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime

import pytest

from pingantong.devices.actions import register_device
from pingantong.devices.models import DeviceEventRecord, DeviceState, LifeSign
from pingantong.gateway import pipeline
from pingantong.gateway.events import DeviceEvent
from pingantong.gateway.ingest import FrameIn, Ingestor, store, store_batch
from pingantong.gateway.tests import gwtools
from pingantong.gateway.tests.gwtools import Terminal, ensure_reference_data, running_gateway

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _reference_data():
    ensure_reference_data()


def al_frame(minute: int, status: str = "00010000") -> bytes:
    body = f"AL,280824,10{minute:02d}00,A,26.263406,N,117.639612,E,0,0,50,8,90,79,1200,0,{status},0"
    return f"[3G*4700186508*{len(body):04x}*{body}]".encode()


class DyingStore:
    """A store that works until `dead` is set, then fails like a lost database."""

    def __init__(self) -> None:
        self.dead = threading.Event()

    def __call__(self, frames, node):
        if self.dead.is_set():
            raise RuntimeError("database unavailable")
        return store_batch(frames, node)


def stored_times() -> set[str]:
    return {str(p["device_time"]) for p in DeviceEventRecord.objects.values("device_time")}


def test_storage_dying_mid_stream_acknowledges_nothing_unstored():
    register_device(protocol="watch", identity="4700186508", device_type="watch")
    store = DyingStore()
    ingestor = Ingestor(node="test-node", store=store)
    with running_gateway(ingestor=ingestor, ports={"watch": 0}) as (gateway, ports, _lt):
        watch = Terminal(ports["watch"])
        watch.send(al_frame(1))
        assert watch.read_until(b"]").endswith(b"*AL]")
        assert DeviceEventRecord.objects.count() == 1

        store.dead.set()
        watch.send(al_frame(2) + al_frame(3))
        # No ACK: the gateway closes the connection instead, so the watch will resend.
        assert watch.expect_silence(10.0) == b"<closed>"
        assert DeviceEventRecord.objects.count() == 1
        metrics = gateway.listeners["watch"].metrics
        assert metrics.acked == 1 and metrics.unacked_storage_failure == 2

        store.dead.clear()
        again = Terminal(ports["watch"])
        again.send(al_frame(2) + al_frame(3))
        assert again.read_until(b"]").endswith(b"*AL]")
        assert again.read_until(b"]").endswith(b"*AL]")
        assert DeviceEventRecord.objects.count() == 3


def test_many_connections_with_storage_failing_never_ack_an_unstored_frame():
    for n in range(5):
        register_device(protocol="watch", identity=f"470018650{n}", device_type="watch")
    store = DyingStore()
    ingestor = Ingestor(node="test-node", store=store)
    acked: list[tuple[str, int]] = []
    with running_gateway(ingestor=ingestor, ports={"watch": 0}) as (_gateway, ports, _lt):
        watches = [Terminal(ports["watch"]) for _ in range(5)]
        for minute in range(6):
            if minute == 3:
                store.dead.set()
            for n, w in enumerate(watches):
                body = f"AL,280824,10{minute:02d}00,A,26.26,N,117.63,E,0,0,50,8,90,79,1200,0,00010000,0"
                try:
                    w.send(f"[3G*470018650{n}*{len(body):04x}*{body}]".encode())
                    if w.read_until(b"]", timeout=3).endswith(b"*AL]"):
                        acked.append((f"470018650{n}", minute))
                except (ConnectionError, OSError):
                    pass
    stored = {
        (r.device_identity, r.device_time.minute)
        for r in DeviceEventRecord.objects.all()
        if r.device_time is not None
    }
    assert acked, "some frames were acknowledged before storage died"
    assert set(acked) <= stored
    assert len(acked) == 15


def test_every_sos_frame_is_stored_even_identical_resends():
    device = register_device(protocol="watch", identity="4700186508", device_type="watch")
    with running_gateway(ports={"watch": 0}) as (_gateway, ports, _lt):
        watch = Terminal(ports["watch"])
        watch.send(al_frame(5) * 3)
        for _ in range(3):
            watch.read_until(b"]")
    assert sum("sos" in r.alarms for r in DeviceEventRecord.objects.filter(device=device)) == 3


def _event(identity: str, **kw) -> DeviceEvent:
    kw.setdefault("message", "AL")
    kw.setdefault("kind", "alarm")
    kw.setdefault("protocol", "watch")
    return DeviceEvent(device_id=identity, **kw)


def test_sos_from_unknown_device_reaches_the_rules_flagged_unbound():
    seen: list[tuple[DeviceEvent, pipeline.RuleContext]] = []

    def capture(event, ctx):
        seen.append((event, ctx))
        return []

    pipeline.register_rule(capture)
    try:
        engine = pipeline.RulesEngine()
        _stored, handed = store_batch(
            [FrameIn("watch", b"[..]", [_event("999", alarms=["sos"], device_time=datetime.now(UTC))])], "n1"
        )
        engine.process(handed)
    finally:
        pipeline.unregister(capture)
    event, ctx = seen[0]
    assert event.alarms == ["sos"]
    assert ctx.device is None and ctx.client is None and ctx.unbound
    assert ctx.device_identity == "999" and ctx.event_id == handed[0].event_id


def test_one_identity_under_two_protocols_is_two_devices_in_one_batch():
    """The batch's look-up of its terminals (one statement per protocol, decision 0135) gives each
    frame the device of its own protocol, and a third identity none."""
    watch = register_device(protocol="watch", identity="8612345", device_type="watch")
    tracker = register_device(protocol="jt808", identity="8612345", device_type="watch")
    frames = [
        FrameIn("watch", b"[..]", [_event("8612345")], identity="8612345"),
        FrameIn("jt808", b"~..~", [_event("8612345", protocol="jt808")], identity="8612345"),
        FrameIn("jt808", b"~..~", [_event("8600000", protocol="jt808")], identity="8600000"),
    ]
    stored, handed = store_batch(frames, "n1")
    assert [s.device_pk for s in stored] == [watch.pk, tracker.pk, None]
    assert [h.device.pk if h.device else None for h in handed] == [watch.pk, tracker.pk, None]
    rows = DeviceEventRecord.objects.order_by("id").values_list("protocol", "device_id")
    assert list(rows) == [("watch", watch.pk), ("jt808", tracker.pk), ("jt808", None)]


def test_postgresql_ids_come_from_the_named_sequences_without_a_look_up_per_batch(monkeypatch):
    """Decision 0135: the ids of a batch's rows are taken from each table's sequence by name; the
    sequence is looked up once per table, not per row of every batch (`pg_get_serial_sequence` in
    the allocating statement ran for each row: 4.5 ms of the server's time a batch)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's sequences; SQLite numbers rows under its write lock")
    monkeypatch.setattr(store, "PIPELINED_FRAMES", 0)  # the COPY path, whose queries Django sees
    store_batch([FrameIn("watch", b"[..]", [_event("8612345")], identity="8612345")], "n1")
    with CaptureQueriesContext(connection) as queries:
        store_batch([FrameIn("watch", b"[..]", [_event("8612345")] * 3, identity="8612345")] * 2, "n1")
    allocating = [q["sql"] for q in queries.captured_queries if "nextval" in q["sql"]]
    assert len(allocating) == 2 and not any("pg_get_serial_sequence" in q for q in allocating), allocating
    ids = list(DeviceEventRecord.objects.order_by("id").values_list("id", flat=True))
    assert len(ids) == 7 and len(set(ids)) == 7


@pytest.fixture(params=["copy", "pipelined", "one statement"])
def store_path(request, monkeypatch):
    """Every way PostgreSQL is written: binary COPY (batches), the pipeline (a few frames,
    decision 0136) and one statement (an urgent frame, decision 0142). Returns the writer."""
    from django.db import connection

    if request.param != "copy" and connection.vendor != "postgresql":
        pytest.skip(f"the {request.param} writer is PostgreSQL's; SQLite has one way")
    monkeypatch.setattr(store, "PIPELINED_FRAMES", 0 if request.param == "copy" else 16)
    if request.param == "one statement":

        def in_one(frames, node):
            assert store.one_statement(frames)
            stored = store.store_in_one_statement(frames, node)
            assert stored is not None
            return stored

        return in_one
    return store_batch


def test_every_kind_of_value_comes_back_as_stored(store_path):
    """What the writer sends (on PostgreSQL in COPY's binary form, decision 0135, or as a few
    INSERTs in a pipeline, decision 0136) reads back the same through the ORM: every byte of a
    frame, text beyond ASCII, JSON with quotes, backslashes and CJK, alarms, a position's floats
    and NULLs, a sensor's state, a vitals reading."""
    from pingantong.devices.models import PositionRecord, RawFrame, SensorRecord, VitalsRecord
    from pingantong.gateway.events import Position

    device = register_device(protocol="watch", identity="8612345", device_type="watch")
    at = datetime(2026, 11, 30, 9, 41, 7, 123456, tzinfo=UTC)
    raw = bytes(range(256))
    event = DeviceEvent(
        protocol="watch",
        device_id="8612345",
        message="UD_LTE",
        kind="position",
        device_time=at,
        position=Position(26.263406, -117.639612, True, speed_kmh=None, course_deg=359.5, satellites=12),
        alarms=["sos", "low_battery"],
        battery_pct=7,
        vitals={"heart_rate_bpm": 72.0, "spo2_pct": 97.0},
        sensor={"contact": False, "name": '前门 "east" \\ door'},
        serial=65_535,
        extra={"note": '平安通 \\ "quoted"', "n": [1, 2.5, None]},
    )
    store_path([FrameIn("watch", raw, [event], peer="[::1]:5000", identity="8612345", received_at=at)], "n1")
    frame = RawFrame.objects.get()
    assert bytes(frame.data) == raw and frame.peer == "[::1]:5000" and frame.received_at == at
    stored = DeviceEventRecord.objects.get()
    assert stored.alarms == ["sos", "low_battery"] and stored.serial == 65_535
    assert stored.payload["extra"] == {"note": '平安通 \\ "quoted"', "n": [1, 2.5, None]}
    assert stored.device_time == at and stored.raw_frame_id == frame.pk and stored.device_id == device.pk
    position = PositionRecord.objects.get()
    assert (position.latitude, position.longitude, position.valid) == (26.263406, -117.639612, True)
    assert position.speed_kmh is None and position.course_deg == 359.5 and position.satellites == 12
    assert position.event_id == stored.pk and position.recorded_at == at
    sensor = SensorRecord.objects.get()
    assert sensor.state == {"contact": False, "name": '前门 "east" \\ door'}
    assert sensor.alarms == ["sos", "low_battery"]
    vitals = VitalsRecord.objects.get()
    assert (vitals.heart_rate_bpm, vitals.spo2_pct, vitals.body_temp_c) == (72, 97, None)
    assert vitals.event_id == sensor.event_id == stored.pk and vitals.device_id == device.pk
    assert gwtools.queued() == [stored.pk]


def test_a_few_frames_on_postgresql_are_written_in_three_round_trips(monkeypatch):
    """Decision 0136: an SOS stored alone waited for the server eleven times (look-up, ids, each
    COPY started and finished, COMMIT), each a wake-up of two processes on a busy machine.
    In psycopg's pipeline mode a few frames take three waits: the look-up with the ids, BEGIN with
    every INSERT, the COMMIT. The rows and the hand-off are those of the COPY path."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's round trips; SQLite is a library in the process")
    device = register_device(protocol="watch", identity="8612345", device_type="watch")
    sos = _event("8612345", alarms=["sos"])
    frames = [FrameIn("watch", b"[..]", [sos, _event("8612345")], identity="8612345")] * 2
    stored, handed = store_batch(frames, "n1")
    stored, handed, trips = _round_trips(lambda: store_batch(frames, "n1"))
    assert trips == 3
    assert [s.device_pk for s in stored] == [device.pk, device.pk] and len(handed) == 4
    assert [h.event_id for h in handed] == [i for s in stored for i in s.event_ids]
    records = DeviceEventRecord.objects.filter(pk__in=[h.event_id for h in handed])
    assert sorted(r.raw_frame_id for r in records) == sorted(s.raw_frame_id for s in stored for _ in range(2))
    assert set(gwtools.queued()) >= {h.event_id for h in handed}
    monkeypatch.setattr(store, "PIPELINED_FRAMES", 0)
    *_, copy_trips = _round_trips(lambda: store_batch(frames, "n1"))
    assert copy_trips >= 10, copy_trips  # the COPY path: the count tells the two apart


def test_an_sos_frame_on_postgresql_is_written_in_one_round_trip():
    """Decision 0142: an urgent frame of a registered device is one statement, its own
    transaction: the look-up, the ids and every row in one wait for the server. Each event, and
    each position, gets its own id, in the frame's order, and waits for the rules stage."""
    from django.db import connection

    from pingantong.devices.models import PositionRecord, RawFrame
    from pingantong.gateway.events import Position

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's round trips; SQLite is a library in the process")
    device = register_device(protocol="watch", identity="8612345", device_type="watch")
    here = Position(26.26, 117.63, True)
    events = [
        _event("8612345", alarms=["sos"], position=here),
        _event("8612345", serial=2),
        _event("8612345"),
    ]
    frames = [FrameIn("watch", b"[..]", events, identity="8612345")]
    store.store_in_one_statement(frames, "n1")  # the statement built, as the first SOS does
    assert store.one_statement(frames)
    stored, trips = _round_trips(lambda: (store.store_in_one_statement(frames, "n1"),))
    assert trips == 1
    (one,) = stored
    assert one.device_pk == device.pk and len(set(one.event_ids)) == 3
    assert one.event_ids == sorted(one.event_ids), "the rules read a device's events in id order"
    records = DeviceEventRecord.objects.filter(pk__in=one.event_ids)
    assert {r.raw_frame_id for r in records} == {one.raw_frame_id}
    assert [r.serial for r in sorted(records, key=lambda r: one.event_ids.index(r.pk))] == [None, 2, None]
    assert RawFrame.objects.get(pk=one.raw_frame_id).device_id == device.pk
    assert PositionRecord.objects.get(event_id=one.event_ids[0]).device_id == device.pk
    assert not PositionRecord.objects.filter(event_id__in=one.event_ids[1:]).exists()
    assert set(gwtools.queued("n1")) >= set(one.event_ids)
    # Not for one statement: two frames, an event of another device, a caller's transaction.
    assert not store.one_statement(frames * 2)
    assert not store.one_statement(
        [FrameIn("watch", b"[..]", [*events, _event("86999")], identity="8612345")]
    )
    from django.db import transaction

    with transaction.atomic():
        assert not store.one_statement(frames)


def test_one_statement_for_a_device_not_in_the_registry_writes_nothing_and_the_inbox_way_follows():
    """An SOS of an unregistered device takes the way that counts it in the installers' inbox
    (and still raises its alarm, flagged unbound): the statement, whose look-up finds no device,
    inserts nothing at all."""
    from django.db import connection

    from pingantong.devices.models import RawFrame, UnknownDeviceInbox

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's one-statement writer")
    frames = [FrameIn("watch", b"[..]", [_event("86000001", alarms=["sos"])], identity="86000001")]
    assert store.one_statement(frames)
    assert store.store_in_one_statement(frames, "n1") is None
    assert not RawFrame.objects.exists() and not DeviceEventRecord.objects.exists()
    assert not gwtools.queued()
    store_batch(frames, "n1")
    assert UnknownDeviceInbox.objects.get().identity == "86000001"


def test_one_statement_that_fails_stores_none_of_its_rows(monkeypatch):
    """The statement is all or nothing: when its last INSERT fails, the frame, event and position
    before it are not stored, the error is the database's, and the connection stores the next."""
    from django.db import IntegrityError, connection

    from pingantong.devices.models import PositionRecord, RawFrame
    from pingantong.gateway.events import Position

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's one-statement writer")
    register_device(protocol="watch", identity="8612345", device_type="watch")
    _last_rows_twice(monkeypatch)
    here = Position(26.26, 117.63, True)
    frames = [
        FrameIn("watch", b"[..]", [_event("8612345", alarms=["sos"], position=here)], identity="8612345")
    ]
    with pytest.raises(IntegrityError):
        store.store_in_one_statement(frames, "n1")
    assert not RawFrame.objects.exists() and not DeviceEventRecord.objects.exists()
    assert not PositionRecord.objects.exists() and not gwtools.queued()
    monkeypatch.undo()
    (stored,) = store.store_in_one_statement(frames, "n1")
    assert RawFrame.objects.get().pk == stored.raw_frame_id
    assert PositionRecord.objects.get().event_id == stored.event_ids[0]


def _round_trips(work):
    """`work()`'s result, and how many times its connection waited for PostgreSQL: the turns from
    the client's messages to the server's in libpq's trace of the protocol."""
    import tempfile

    from django.db import connection

    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    with tempfile.TemporaryFile("w+") as trace:
        pgconn.trace(trace.fileno())
        try:
            result = work()
        finally:
            pgconn.untrace()
        trace.seek(0)
        sides = [line.split("\t")[1] for line in trace if line.count("\t") >= 2]
    turns = sum(1 for pair in itertools.pairwise(sides) if pair == ("F", "B"))
    return (*result, turns)


def _last_rows_twice(monkeypatch) -> None:
    """Make the writers insert the last table's rows (the rules queue's) twice: the second
    INSERT fails on its unique key, after every other row of the batch is in."""
    numbered = store._numbered

    def queued_twice(*args):
        tables, stored, handed = numbered(*args)
        table, columns, rows = tables[-1]
        return [*tables[:-1], (table, columns, rows + rows)], stored, handed

    monkeypatch.setattr(store, "_numbered", queued_twice)


def test_a_pipelined_batch_that_fails_stores_none_of_its_rows(monkeypatch):
    """The pipeline's INSERTs are one transaction (decision 0136): when the last one fails, the
    frames, events and positions before it are not stored either, the error is the database's,
    and the connection stores the next batch."""
    from django.db import IntegrityError, connection

    from pingantong.devices.models import PositionRecord, RawFrame

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's pipeline")
    register_device(protocol="watch", identity="8612345", device_type="watch")
    _last_rows_twice(monkeypatch)
    with pytest.raises(IntegrityError):
        store_batch(
            [FrameIn("watch", b"[..]", [_event("8612345", alarms=["sos"])], identity="8612345")], "n1"
        )
    assert not RawFrame.objects.exists() and not DeviceEventRecord.objects.exists()
    assert not PositionRecord.objects.exists() and not gwtools.queued()
    monkeypatch.undo()
    stored, _handed = store_batch([FrameIn("watch", b"[..]", [_event("8612345")], identity="8612345")], "n1")
    assert RawFrame.objects.get().pk == stored[0].raw_frame_id


def test_a_failing_rule_does_not_stop_the_others_and_order_is_kept():
    device = register_device(protocol="watch", identity="1", device_type="watch")
    order: list[int] = []

    def broken(event, ctx):
        raise RuntimeError("bug in a rule")

    def recorder(event, ctx):
        order.append(event.steps or 0)
        return []

    pipeline.register_rule(broken)
    pipeline.register_rule(recorder)
    try:
        engine = pipeline.RulesEngine()
        frames = [
            FrameIn("watch", b"x", [_event("1", message="LK", kind="heartbeat", steps=s)]) for s in (1, 2, 3)
        ]
        _stored, handed = store_batch(frames, "n1")
        engine.process(handed)
    finally:
        pipeline.unregister(broken)
        pipeline.unregister(recorder)
    assert order == [1, 2, 3]
    assert engine.rule_failures == 3
    state = DeviceState.objects.get(device=device)
    assert state.steps == 3 and state.last_life_sign_source == "steps"


def test_heartbeat_proves_the_device_but_not_the_person():
    device = register_device(protocol="watch", identity="2", device_type="watch")
    engine = pipeline.RulesEngine()
    _s, handed = store_batch([FrameIn("watch", b"x", [_event("2", message="LK", kind="heartbeat")])], "n1")
    engine.process(handed)
    state = DeviceState.objects.get(device=device)
    assert state.last_device_seen_at is not None
    assert state.last_life_sign_at is None
    _s, handed = store_batch(
        [
            FrameIn(
                "watch", b"x", [_event("2", message="bphrt", kind="vitals", vitals={"heart_rate_bpm": 72})]
            )
        ],
        "n1",
    )
    engine.process(handed)
    state.refresh_from_db()
    assert state.last_life_sign_source == "vitals"
    assert LifeSign.objects.filter(device=device).count() == 1


def test_events_stored_but_not_processed_are_replayed_on_restart():
    device = register_device(protocol="watch", identity="3", device_type="watch")
    store_batch([FrameIn("watch", b"x", [_event("3", alarms=["sos"])])], "node-a")  # crash before rules
    engine = pipeline.RulesEngine()
    assert pipeline.recover_unprocessed(engine, gateway_node="node-a") == 1
    assert DeviceState.objects.get(device=device).last_life_sign_source == "sos"
    assert pipeline.recover_unprocessed(engine, gateway_node="node-a") == 0


def test_nul_bytes_from_a_terminal_are_stored_not_refused():
    """PostgreSQL text and jsonb refuse NUL; a terminal sending one must still be stored and acked."""
    event = _event("ab\x00cd", message="A\x00L", alarms=["sos"], extra={"x": "\x00"})
    _stored, handed = store_batch(
        [FrameIn("watch", b"\x00[3G]", [event], peer="p\x00", error="bad\x00")], "n1"
    )
    record = DeviceEventRecord.objects.get(pk=handed[0].event_id)
    assert record.device_identity == "ab\ufffdcd" and record.alarms == ["sos"]


def test_one_refused_submission_does_not_fail_the_others_in_its_batch():
    import asyncio

    class Picky:
        def __call__(self, frames, node):
            if any(f.peer == "poison" for f in frames):
                raise ValueError("refused by the database")
            return store_batch(frames, node)

    async def scenario():
        ingestor = Ingestor(node="n1", store=Picky())
        await ingestor.start()
        good = FrameIn("watch", b"x", [_event("1", alarms=["sos"])], peer="ok")
        bad = FrameIn("watch", b"y", [_event("2")], peer="poison")
        results = await asyncio.gather(
            ingestor.submit([good]), ingestor.submit([bad]), return_exceptions=True
        )
        await ingestor.stop()
        return results

    ok, refused = asyncio.run(scenario())
    assert isinstance(refused, Exception) and not isinstance(ok, Exception)
    assert DeviceEventRecord.objects.filter(device_identity="1").count() == 1
    assert not DeviceEventRecord.objects.filter(device_identity="2").exists()


def test_a_large_batch_is_settled_in_slices_with_the_loop_free_between_them():
    """A batch of 1,000 acknowledged in one callback held the event loop 20-40 ms at load: an SOS
    committed meanwhile on the urgent pipe, and every socket, waited. Something the loop has to
    run as soon as the first ACK is written gets its turn after the first slice, not the last."""
    import asyncio

    from pingantong.gateway.ingest import SETTLE_SLICE

    count = 2 * SETTLE_SLICE + 50
    queued = threading.Event()

    def held_store(frames, node):
        queued.wait(10)  # the first submission's batch waits here until all are queued
        return store_batch(frames, node)

    async def scenario():
        loop = asyncio.get_running_loop()
        ingestor = Ingestor(node="n1", store=held_store)
        await ingestor.start()
        order: list = []

        def done(outcome, i):
            assert not isinstance(outcome, Exception), outcome
            if not order:
                loop.call_soon(order.append, "loop's turn")
            order.append(i)

        # One submission first (its batch holds the writer), then the rest: one batch together.
        ingestor.submit_callback([FrameIn("watch", b"0", [_event("s0", kind="heartbeat")])], lambda o: None)
        await asyncio.sleep(0.05)
        for i in range(count):
            frame = FrameIn("watch", b"f", [_event(f"s{i}", kind="heartbeat", alarms=[])])
            ingestor.submit_callback([frame], lambda outcome, i=i: done(outcome, i))
        queued.set()
        while len(order) < count + 1:
            await asyncio.sleep(0.01)
        await ingestor.stop()
        return order

    order = asyncio.run(scenario())
    assert order.index("loop's turn") == SETTLE_SLICE
    assert [i for i in order if i != "loop's turn"] == list(range(count))


def test_the_next_batch_is_written_while_the_last_ones_acks_go_out():
    """Decision 0134: the writer used to sit idle while the loop settled a batch (a thousand ACKs
    written, sockets read between slices), which capped a gateway at ~9,000 msg/s with the machine
    a fifth idle. The batch queued behind is now handed to the writer before the first ACK of the
    one before it is written. Here the stored batch's callback blocks the loop until the writer
    starts on the next batch: it does at once, where before it never could (it waited 5 s)."""
    import asyncio

    release_first = threading.Event()
    second_writing = threading.Event()

    def store(frames, node):
        if frames[0].peer == "first":
            release_first.wait(10)
        else:
            second_writing.set()
        return store_batch(frames, node)

    async def scenario():
        ingestor = Ingestor(node="n1", store=store)
        await ingestor.start()
        seen: list[bool] = []

        def first_done(outcome):
            assert not isinstance(outcome, Exception), outcome
            seen.append(second_writing.wait(5))  # holds the loop: only a writer already at it sets this

        first = FrameIn("watch", b"1", [_event("first", kind="heartbeat", alarms=[])], peer="first")
        ingestor.submit_callback([first], first_done)
        await asyncio.sleep(0.05)  # the first batch is in the writer, held
        second = FrameIn("watch", b"2", [_event("second", kind="heartbeat", alarms=[])], peer="second")
        waiting = ingestor.submit_nowait([second])
        release_first.set()
        stored = await waiting
        await ingestor.stop()
        return seen, stored

    seen, stored = asyncio.run(scenario())
    assert seen == [True]
    assert len(stored) == 1
    assert DeviceEventRecord.objects.filter(device_identity__in=["first", "second"]).count() == 2


def test_writer_keeps_its_connection_and_leaves_wal_checkpoints_to_the_checkpointer(monkeypatch):
    """The ingest writer is not a request: it keeps its database connection from batch to batch
    (CONN_MAX_AGE=0 would reopen it for every batch), and on SQLite its commits never run a WAL
    checkpoint (the 10-20 ms of a checkpoint sat in front of the ACKs and of any waiting SOS);
    a checkpointer of the ingestor's own copies the log into the database."""
    import asyncio

    from django.db import connection

    from pingantong.gateway import ingest as ingest_module

    monkeypatch.setattr(ingest_module, "CHECKPOINT_SECONDS", 0.05)
    seen: list[tuple[object, int | None]] = []  # the connections themselves: ids can be reused

    def store(frames, node):
        stored = store_batch(frames, node)
        autocheckpoint = None
        if connection.vendor == "sqlite":
            autocheckpoint = connection.connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        seen.append((connection.connection, autocheckpoint))
        return stored

    async def scenario():
        ingestor = Ingestor(node="n1", store=store)
        await ingestor.start()
        for n in range(3):
            await ingestor.submit([FrameIn("watch", b"x", [_event(str(n))], peer="p")])
        await asyncio.sleep(0.3)
        checkpoints = ingestor.metrics.wal_checkpoints
        await ingestor.stop()
        return checkpoints

    checkpoints = asyncio.run(scenario())
    assert len(seen) == 3 and all(conn is seen[0][0] for conn, _ in seen), seen
    if connection.vendor == "sqlite":
        assert {auto for _, auto in seen} == {0}
        assert checkpoints >= 1
        connection.ensure_connection()
        busy, log_frames, copied = connection.connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        assert busy == 0 and copied == log_frames
    else:
        assert checkpoints == 0  # PostgreSQL has no WAL of ours to checkpoint


def test_the_checkpointer_keeps_the_write_ahead_log_short(monkeypatch):
    """Decision 0126: PASSIVE checkpoints alone never shorten SQLite's log while frames keep
    arriving and readers keep reading (it grew to 3.5 GB in a 2-minute benchmark, and every page
    read searched it): past `WAL_RESTART_PAGES` the checkpointer restarts it from its beginning,
    in the gateway writers' turn."""
    import asyncio
    import time

    from django.db import connection

    from pingantong.gateway import ingest as ingest_module

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL keeps its own write-ahead log")
    monkeypatch.setattr(ingest_module, "CHECKPOINT_SECONDS", 0.05)
    monkeypatch.setattr(ingest_module, "WAL_RESTART_PAGES", 100)
    stop_reading = threading.Event()

    def reader() -> None:  # short reads all along, as the rules process and the web make them
        try:
            while not stop_reading.is_set():
                DeviceEventRecord.objects.filter(gateway_node="n1").exists()
        finally:
            connection.close()

    def frames(batch: int) -> list[FrameIn]:
        return [FrameIn("watch", b"x" * 200, [_event(f"{batch}-{n}")], peer="p") for n in range(20)]

    def log_length() -> int:  # in an executor thread: a connection of its own
        try:
            connection.ensure_connection()
            return int(connection.connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1])
        finally:
            connection.close()

    async def scenario() -> tuple[int, int, int, int]:
        ingestor = Ingestor(node="n1")
        await ingestor.start()
        batches, deadline = 0, time.monotonic() + 60
        try:
            # Frames all along (the log is never idle, as under load) until it was restarted.
            while ingestor.metrics.wal_restarts == 0 and time.monotonic() < deadline:
                await ingestor.submit(frames(batches))
                batches += 1
            restarts = ingestor.metrics.wal_restarts
            # The first write after a restart starts the log again from its beginning.
            await ingestor.submit(frames(batches))
            await ingestor.drain_rules()
            after = await asyncio.get_running_loop().run_in_executor(None, log_length)
            longest = ingestor.metrics.wal_pages_max
        finally:
            await ingestor.stop()
        return longest, restarts, after, batches + 1

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        longest, restarts, log_pages, batches = asyncio.run(scenario())
    finally:
        stop_reading.set()
        thread.join(10)
    assert restarts >= 1
    # Without restarts the log only grows: having passed the mark, it would still be past it. After
    # a restart it holds only what was written since (one batch and the rules' updates).
    assert longest > ingest_module.WAL_RESTART_PAGES > log_pages, (log_pages, longest)
    assert DeviceEventRecord.objects.filter(gateway_node="n1").count() == batches * 20


def lock_is_free(path: str) -> bool:
    """Whether the gateway writers' lock file is free now (another open file: flock conflicts)."""
    import fcntl
    import os

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def test_before_a_restart_the_database_file_is_flushed_outside_the_writers_turn(monkeypatch):
    """Decision 0129: a PASSIVE checkpoint under load copies pages into the database file without
    syncing it, so the RESTART (which holds every writer and every SOS) used to sync a whole
    log's worth of copied pages: 25 ms at the start of a benchmark, 120 ms a minute later. The
    checkpointer now copies and flushes outside the turn first, and the RESTART syncs only the
    last few milliseconds' pages."""
    import contextlib

    from django.db import connection

    from pingantong.gateway import ingest as ingest_module
    from pingantong.gateway.ingest import writelock

    path = writelock._lock_path()
    if path is None:
        pytest.skip("the write-lock turn and the log restart exist only on a SQLite file database")
    register_device(protocol="watch", identity="4700186508", device_type="watch")
    for minute in range(5):  # frames in the log for the checkpoints to copy
        store_batch([FrameIn("watch", al_frame(minute), [_event(str(minute))], peer="p")], "n1")
    steps: list[str] = []
    real_flush, real_turn = ingest_module._flush_database_file, ingest_module.writer_turn

    def flush() -> None:
        steps.append("flush outside the turn" if lock_is_free(path) else "flush in the turn")
        real_flush()

    @contextlib.contextmanager
    def turn():
        steps.append("turn")
        with real_turn():
            yield

    monkeypatch.setattr(ingest_module, "_flush_database_file", flush)
    monkeypatch.setattr(ingest_module, "writer_turn", turn)
    try:
        restarted, _held = ingest_module._restart_log(False)
    finally:
        connection.close()  # its busy timeout was the restart's
    assert restarted
    assert steps[-1] == "turn" and steps[:-1], steps
    assert set(steps[:-1]) == {"flush outside the turn"}, steps


def test_flushing_the_database_file_leaves_sqlites_own_locks_on_it_in_place():
    """The flush's descriptor of the database file is never closed: closing any descriptor of a
    file drops every POSIX lock the process holds on it, SQLite's shared lock included, and
    another process's last connection would then checkpoint and delete the write-ahead log under
    this one. Another process must still be refused the exclusive lock after a flush."""
    import subprocess
    import sys

    from django.db import connection

    from pingantong.gateway import ingest as ingest_module

    if connection.vendor != "sqlite" or connection.is_in_memory_db():
        pytest.skip("SQLite file databases only")
    path = str(connection.settings_dict["NAME"])
    DeviceEventRecord.objects.exists()  # this process's connection is open, in WAL mode
    probe = (
        "import fcntl, os, sys\n"
        "fd = os.open(sys.argv[1], os.O_RDWR)\n"
        "try:\n"
        "    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 510, 0x40000002, 0)\n"  # SQLite's shared range
        "except OSError:\n"
        "    print('refused')\n"
        "else:\n"
        "    print('granted')\n"
    )

    def exclusive_lock_from_another_process() -> str:
        run = subprocess.run([sys.executable, "-c", probe, path], capture_output=True, text=True, check=True)
        return run.stdout.strip()

    assert exclusive_lock_from_another_process() == "refused"
    ingest_module._flush_database_file()
    ingest_module._flush_database_file()
    assert exclusive_lock_from_another_process() == "refused"


def test_rows_are_built_before_the_writer_takes_its_turn_at_the_write_lock(monkeypatch):
    """SQLite has one write lock, shared with the rules stage by turns (writelock.py): the ingest
    writer builds a batch's rows (device look-up, JSON, timestamps) before taking its turn, so
    the turn lasts only for numbering, inserting and committing."""
    import asyncio

    from pingantong.gateway.ingest import store as store_module
    from pingantong.gateway.ingest import writelock

    path = writelock._lock_path()
    if path is None:
        pytest.skip("the write-lock turn exists only on a SQLite file database")
    free_while_preparing: list[bool] = []
    taken_while_writing: list[bool] = []
    real_prepare, real_write = store_module.prepare_batch, store_module.write_prepared

    def prepare(frames):
        free_while_preparing.append(lock_is_free(path))
        return real_prepare(frames)

    def write(prepared, node):
        taken_while_writing.append(not lock_is_free(path))
        return real_write(prepared, node)

    monkeypatch.setattr(store_module, "prepare_batch", prepare)
    monkeypatch.setattr(store_module, "write_prepared", write)

    async def scenario():
        ingestor = Ingestor(node="n1")
        await ingestor.start()
        stored = await ingestor.submit([FrameIn("watch", b"x", [_event("5")], peer="p")])
        await ingestor.stop()
        return stored

    stored = asyncio.run(scenario())
    assert len(stored) == 1 and DeviceEventRecord.objects.filter(pk=stored[0].event_ids[0]).exists()
    assert free_while_preparing == [True] and taken_while_writing == [True]


def test_while_a_checkpointer_runs_new_connections_leave_wal_checkpoints_to_it(monkeypatch):
    """Connections opened in this process while a gateway's checkpointer runs (the writer's, the
    rules thread's, a web request's), and in a gateway's rules process, do not checkpoint in
    their commits; once the checkpointer stops, new connections are back to SQLite's default."""
    from django.db import connection

    from pingantong.gateway.ingest import dbconn

    if connection.vendor != "sqlite":
        pytest.skip("WAL checkpoints are SQLite's")
    monkeypatch.setattr(dbconn, "_checkpointers", 0)
    monkeypatch.setattr(dbconn, "_child_of_a_gateway", False)

    def autocheckpoint_of_a_new_connection() -> int:
        out: list[int] = []

        def work() -> None:
            from django.db import connection as thread_connection

            thread_connection.ensure_connection()
            out.append(thread_connection.connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
            thread_connection.close()

        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
        return out[0]

    assert autocheckpoint_of_a_new_connection() == 1000
    dbconn.checkpointer_started()
    assert autocheckpoint_of_a_new_connection() == 0
    dbconn.checkpointer_stopped()
    assert autocheckpoint_of_a_new_connection() == 1000
    dbconn.leave_checkpoints_to_the_parent_gateway()  # what the rules process does at start
    assert autocheckpoint_of_a_new_connection() == 0
    connection.connection.execute("PRAGMA wal_autocheckpoint=1000")  # this test's own connection
