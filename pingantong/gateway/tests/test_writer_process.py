"""The ingest writer in a process of its own (decision 0125; issue 4, D1): the frames it is sent
arrive exactly as the listener decoded them, a gateway with `writer="process"` acknowledges a
frame only after the child committed it, and a child that dies with a batch leaves that batch
unacknowledged and is replaced for the next one."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection, connections, transaction

from pingantong.devices.actions import register_device
from pingantong.devices.models import (
    DeviceEventRecord,
    DeviceState,
    PositionRecord,
    RawFrame,
    UnknownDeviceInbox,
)
from pingantong.gateway import ingest
from pingantong.gateway.events import DeviceEvent, Position
from pingantong.gateway.ingest import FrameIn, Ingestor, StorageError, writer_mode
from pingantong.gateway.ingest.writelock import writer_turn
from pingantong.gateway.ingest.writerproc import CHUNK_FRAMES, chunks, decode_frames, encode_frames
from pingantong.gateway.tests.gwtools import (
    LoopThread,
    Terminal,
    durable_before_ack,
    ensure_reference_data,
    jt808_position,
    running_gateway,
)
from pingantong.testing.waiting import wait_for


def test_frames_cross_to_the_writer_process_unchanged():
    when = datetime(2026, 11, 29, 1, 2, 3, 456789, tzinfo=UTC)
    events = [
        DeviceEvent(
            protocol="jt808",
            device_id="13912340071",
            message="0x0200",
            kind="alarm",
            device_time=when - timedelta(seconds=5),
            position=Position(26.263406, 117.639612, True, 12.5, 90.0, 120.0, 7),
            alarms=["sos", "low_battery"],
            battery_pct=15,
            signal_pct=80,
            steps=1234,
            vitals={"heart_rate_bpm": 72.0, "spo2_pct": 97.0},
            sensor={"contact": False},
            archived=True,
            serial=65535,
            extra={"cells": [{"mcc": 460, "mnc": 0}], "status_flags": 3},
        ),
        DeviceEvent(protocol="watch", device_id="4700186508", message="LK", kind="heartbeat"),
    ]
    frames = [
        FrameIn("jt808", b"\x7e\x02\x00\x7e", events[:1], "127.0.0.1:5000", "13912340071", None, when),
        FrameIn("watch", b"[3G*4700186508*0002*LK]", events[1:], "10.0.0.2:7", None, "bad", when),
        FrameIn("watch", b"\x00garbage", [], "10.0.0.3:9", None, "malformed", when),
    ]
    assert decode_frames(encode_frames(frames)) == frames


@pytest.mark.django_db
def test_writer_mode_follows_the_rules_unless_set_and_needs_the_rules_process(settings, monkeypatch):
    monkeypatch.delenv("PINGANTONG_GATEWAY_WRITER", raising=False)
    assert writer_mode("thread") == "thread"
    assert writer_mode("process") == "process"
    settings.PINGANTONG_GATEWAY_WRITER = "thread"
    assert writer_mode("process") == "thread"
    settings.PINGANTONG_GATEWAY_WRITER = "process"
    assert writer_mode("process") == "process"
    with pytest.raises(ValueError, match="PINGANTONG_GATEWAY_RULES=process"):
        writer_mode("thread")
    monkeypatch.setenv("PINGANTONG_GATEWAY_WRITER", "bogus")
    with pytest.raises(ValueError, match="thread or process"):
        writer_mode("process")


PHONE = bytes.fromhex("013912340072")


def _position(serial: int, *, sos: bool = False) -> bytes:
    return jt808_position(PHONE, serial, sos=sos)


@contextlib.contextmanager
def _storage_held() -> Iterator[None]:
    """Keep the writer process from committing: SQLite's write turn (the writers' flock), or on
    PostgreSQL a lock on the raw frame table that its inserts wait for."""
    if connection.vendor == "sqlite":
        with writer_turn():
            yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'LOCK TABLE "{RawFrame._meta.db_table}" IN SHARE MODE')
        yield


@pytest.mark.django_db(transaction=True)
def test_gateway_with_a_writer_process_acks_only_what_the_child_committed():
    ensure_reference_data()
    device = register_device(protocol="jt808", identity="13912340072", device_type="jt808_tracker")
    ingestor = Ingestor(node="writer-node", rules="process", writer="process")
    with running_gateway(ingestor=ingestor, ports={"jt808": 0}) as (gateway, ports, lt):
        writer = gateway.ingestor.writer_process
        assert writer is not None and writer.alive()
        term = Terminal(ports["jt808"])
        for serial in range(1, 4):
            term.send(_position(serial, sos=serial == 3))
            term.read_frame_7e()
            if serial < 3:
                # Committed by the child before the parent acknowledged it.
                assert DeviceEventRecord.objects.filter(device=device, serial=serial).exists()
            else:
                # The SOS: durable in the urgent journal (or already in the database) before the
                # ACK (decision 0130), and in the database soon after.
                stored = DeviceEventRecord.objects.filter(device=device, serial=serial)
                assert durable_before_ack(gateway.ingestor, stored, lambda e: e.serial == 3)
        wait_for(lambda: DeviceEventRecord.objects.filter(device=device, serial=3).exists())
        assert PositionRecord.objects.filter(device=device).count() == 3

        # The child dies while it waits to commit a batch: nothing of it is acknowledged (the
        # gateway closes the connection, the terminal resends), nothing of it is stored.
        first_pid = writer.pid
        with _storage_held():
            term.send(_position(4))
            assert term.expect_silence(1.0) == b""
            writer.kill()
        assert term.expect_silence(10.0) == b"<closed>"
        assert not DeviceEventRecord.objects.filter(device=device, serial=4).exists()
        assert gateway.listeners["jt808"].metrics.unacked_storage_failure == 1

        # The resend goes to a new child and is stored and acknowledged.
        again = Terminal(ports["jt808"])
        again.send(_position(4))
        again.read_frame_7e()
        assert DeviceEventRecord.objects.filter(device=device, serial=4).count() == 1
        assert writer.restarts == 1 and writer.pid != first_pid

        lt.run(gateway.ingestor.drain_rules(), timeout=120)
        stats = gateway.ingestor.stats()
        assert stats["writer_mode"] == "process" and stats["events_stored"] == 4
        assert stats["writer_process_cpu_seconds"] > 0
        state = DeviceState.objects.get(device=device)
        assert state.last_message_at is not None, "the rules process ran the child's events"
        from pingantong.alarms.models import Alarm

        assert Alarm.objects.filter(device=device).count() == 1
    # Stopping the gateway stops the child.
    deadline = time.monotonic() + 10
    while writer._proc is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert writer._proc is None


# --- decision 0127: an urgent frame does not wait for the batch in front of it ----------------


def _heartbeat(n: int) -> FrameIn:
    ident = f"47001{n:05d}"
    event = DeviceEvent(protocol="watch", device_id=ident, message="LK", kind="heartbeat")
    return FrameIn("watch", f"[3G*{ident}*0002*LK]".encode(), [event], peer="10.0.0.9:1")


def _located(serial: int) -> DeviceEvent:
    return DeviceEvent(
        protocol="jt808",
        device_id="13912340072",
        message="0x0200",
        kind="position",
        position=Position(26.26, 117.63, True, 0.0, 0.0, 10.0, 7),
        serial=serial,
    )


def _sos_frame(n: int = 99999) -> FrameIn:
    ident = f"47001{n:05d}"
    event = DeviceEvent(protocol="watch", device_id=ident, message="AL", kind="alarm", alarms=["sos"])
    return FrameIn("watch", f"[3G*{ident}*0002*AL]".encode(), [event], peer="10.0.0.9:2")


def test_a_batch_is_cut_into_runs_of_whole_submissions():
    frames = [_heartbeat(n) for n in range(10)]
    runs = chunks(frames, [3, 3, 3, 1], 6)
    assert [len(r) for r in runs] == [6, 4]
    assert [f for r in runs for f in r] == frames
    # A submission larger than the limit is a run of its own, never split.
    assert [len(r) for r in chunks(frames, [2, 7, 1], 4)] == [2, 7, 1]
    # No sizes: one submission.
    assert [len(r) for r in chunks(frames, [], 4)] == [10]


async def _submit_each(ingestor: Ingestor, frames: list[FrameIn]) -> list[asyncio.Future]:
    """One submission per frame, all in one turn of the loop: they form one batch."""
    return [ingestor.submit_nowait([f]) for f in frames]


async def _outcomes(futures: list[asyncio.Future]) -> list[Any]:
    return await asyncio.gather(*futures, return_exceptions=True)


@contextlib.contextmanager
def _ingestor(node: str) -> Iterator[tuple[Ingestor, LoopThread]]:
    lt = LoopThread()
    ingestor = Ingestor(node=node, rules="process", writer="process")
    lt.run(ingestor.start(), timeout=120)
    try:
        yield ingestor, lt
    finally:
        lt.run(ingestor.stop(), timeout=120)
        lt.close()


def _calls_of(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[Any]:
    """The first arguments `module.name` is called with, from now on; it still does its work."""
    calls: list[Any] = []
    work = getattr(module, name)

    def recorded(first: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(list(first))
        return work(first, *args, **kwargs)

    monkeypatch.setattr(module, name, recorded)
    return calls


def _raw_ids(frames: list[FrameIn]) -> list[int]:
    ids = dict(RawFrame.objects.filter(data__in=[f.raw for f in frames]).values_list("data", "id"))
    return [ids[bytes(f.raw)] for f in frames]


@pytest.mark.django_db(transaction=True)
def test_an_sos_is_stored_between_the_runs_of_the_batch_in_front_of_it():
    """S01 on SQLite (one writer at a time): the child stores a 450-frame batch in runs of
    `CHUNK_FRAMES`; an SOS submitted while the batch waits is committed after its first run, not
    after all of it (before, it waited for the whole batch and its ACKs)."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL stores the SOS beside the batch: the next test")
    ensure_reference_data()
    normal = [_heartbeat(n) for n in range(450)]
    sos = _sos_frame()
    with _ingestor("chunk-node") as (ingestor, lt):
        with _storage_held():
            futures = lt.run(_submit_each(ingestor, normal))
            time.sleep(1.0)  # the batch is in the child, whose first run waits for the storage
            futures += lt.run(_submit_each(ingestor, [sos]))
            time.sleep(1.0)  # the SOS is on the child's urgent pipe
        outcomes = lt.run(_outcomes(futures), timeout=120)
    assert not [o for o in outcomes if isinstance(o, BaseException)]
    ids = _raw_ids(normal)
    (sos_id,) = _raw_ids([sos])
    assert max(ids[:CHUNK_FRAMES]) < sos_id < min(ids[CHUNK_FRAMES:]), "the SOS waited for one run only"
    assert [o[0].raw_frame_id for o in outcomes] == [*ids, sos_id]


@pytest.mark.django_db(transaction=True)
def test_an_sos_is_stored_while_the_batch_in_front_of_it_waits():
    """S01 on PostgreSQL (many writers): an `ingest-urgent` thread commits an SOS (decision 0141;
    before, the child's urgent thread), and the gateway acknowledges it, while the batch in front
    of it is still waiting in its transaction (here for a lock on the positions table, which the
    SOS does not write)."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite takes one writer at a time: the previous test")
    ensure_reference_data()
    register_device(protocol="jt808", identity="13912340072", device_type="jt808_tracker")
    normal = [
        FrameIn("jt808", _position(n), [_located(n)], peer="10.0.0.9:1", identity="13912340072")
        for n in range(1, 301)
    ]
    sos = _sos_frame()
    with _ingestor("beside-node") as (ingestor, lt):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f'LOCK TABLE "{PositionRecord._meta.db_table}" IN SHARE MODE')
            futures = lt.run(_submit_each(ingestor, normal))
            time.sleep(1.0)  # the batch is in the child, waiting for the positions table
            (sos_future,) = lt.run(_submit_each(ingestor, [sos]))
            stored = lt.run(asyncio.wait_for(asyncio.shield(sos_future), 30), timeout=40)
            assert not [f for f in futures if f.done()], "the batch is still waiting"
        outcomes = lt.run(_outcomes(futures), timeout=120)
    assert stored[0].raw_frame_id == _raw_ids([sos])[0]
    assert not [o for o in outcomes if isinstance(o, BaseException)]
    assert PositionRecord.objects.filter(device__identity="13912340072").count() == 300


@pytest.mark.django_db(transaction=True)
def test_a_run_the_database_refuses_fails_only_its_own_submission():
    """A batch's later run fails (one frame the database refuses): the runs committed before it
    are acknowledged as they are, never stored again; the rest are stored one by one, and only
    the refused frame's submission fails."""
    ensure_reference_data()
    normal = [_heartbeat(n) for n in range(450)]
    bad = 300  # in the second run
    normal[bad].received_at = None  # type: ignore[assignment]  # NOT NULL (PostgreSQL: no partition)
    with _ingestor("partial-node") as (ingestor, lt):
        futures = lt.run(_submit_each(ingestor, normal))
        outcomes = lt.run(_outcomes(futures), timeout=120)
        assert ingestor.metrics.storage_failures == 1
    assert isinstance(outcomes[bad], StorageError)
    good = [f for n, f in enumerate(normal) if n != bad]
    assert RawFrame.objects.filter(gateway_node="partial-node").count() == len(good)
    assert not RawFrame.objects.filter(data=normal[bad].raw).exists()
    stored = [o for n, o in enumerate(outcomes) if n != bad]
    assert [o[0].raw_frame_id for o in stored] == _raw_ids(good)


def _submit_apart(ingestor: Ingestor, lt: LoopThread, frames: list[FrameIn]) -> list[asyncio.Future]:
    """One submission per frame, a moment apart: each an urgent batch of its own."""
    futures: list[asyncio.Future] = []
    for frame in frames:
        futures += lt.run(_submit_each(ingestor, [frame]))
        time.sleep(0.3)
    return futures


@pytest.mark.django_db(transaction=True)
def test_an_sos_is_sent_to_the_child_while_the_one_in_front_of_it_is_still_being_stored():
    """Decision 0128: three SOS from three terminals, a moment apart, while storage is held: all
    three are being stored before the first is answered (one at a time, the second and third
    waited in the gateway until the first came back), and each gets its own frame's id once
    storage is free. On SQLite all three are on the child's urgent pipe; on PostgreSQL three
    `ingest-urgent` threads wait for the database at once (decision 0141)."""
    from pingantong.gateway.ingest import URGENT_IN_FLIGHT

    ensure_reference_data()
    sos = [_sos_frame(n) for n in range(1, 4)]
    assert len(sos) <= URGENT_IN_FLIGHT
    with _ingestor("pipelined-node") as (ingestor, lt):
        writer = ingestor.writer_process
        assert writer is not None
        with _storage_held():
            futures = _submit_apart(ingestor, lt, sos)
            if connection.vendor == "sqlite":
                sent = len(writer._urgent_in_flight)
            else:
                sent = len(ingestor._urgent_batches)
                assert not writer._urgent_in_flight, "the urgent pipe is SQLite's"
            assert not [f for f in futures if f.done()]
        outcomes = lt.run(_outcomes(futures), timeout=120)
    assert sent == 3, "every SOS was sent before the first was answered"
    assert not [o for o in outcomes if isinstance(o, BaseException)]
    assert [o[0].raw_frame_id for o in outcomes] == _raw_ids(sos)


@pytest.mark.django_db(transaction=True)
def test_an_sos_goes_to_the_child_and_is_stored_while_the_loop_that_submitted_it_is_busy():
    """Decision 0140: the urgent batch is handed to an `ingest-urgent` thread in the callback that
    submitted it, and its outcome settles it in the one callback the thread schedules. A loop
    kept busy right after the submission (10,000 messages a second of other callbacks) delays
    neither the sending nor the storing; the SOS is told its outcome as soon as the loop is free."""
    ensure_reference_data()
    sos = _sos_frame(4242)
    with _ingestor("busy-loop-node") as (ingestor, lt):
        busy = threading.Event()
        submitted: list[asyncio.Future] = []

        def submit_then_stay_busy() -> None:
            submitted.append(ingestor.submit_nowait([sos]))
            busy.wait(60)  # the loop runs nothing else meanwhile

        lt.loop.call_soon_threadsafe(submit_then_stay_busy)
        try:
            wait_for(lambda: RawFrame.objects.filter(data=sos.raw).exists(), timeout=60)
            assert not submitted[0].done(), "stored while the loop that submitted it was busy"
        finally:
            busy.set()
        outcome = lt.run(_outcomes(submitted), timeout=60)[0]
    assert not isinstance(outcome, BaseException)
    assert outcome[0].raw_frame_id == _raw_ids([sos])[0]


@pytest.mark.django_db(transaction=True)
def test_a_stored_sos_is_acknowledged_at_the_next_read_of_any_connection_before_the_loops_pass_ends():
    """Decision 0143: an `ingest-urgent` thread has stored an SOS while the loop is busy with a
    pass of reads (here: one callback that stands for it). The SOS is not acknowledged until the
    loop reads a connection; then it is, during that read, another terminal's, before the pass
    ends. Before, its ACK waited for the callback the thread schedules, after the whole pass."""
    ensure_reference_data()
    sos_device = register_device(protocol="jt808", identity="13912340072", device_type="jt808_tracker")
    other_phone = bytes.fromhex("013912340073")
    other = register_device(protocol="jt808", identity="13912340073", device_type="jt808_tracker")
    ingestor = Ingestor(node="next-read-node", rules="process", writer="process", journal=False)
    with running_gateway(ingestor=ingestor, ports={"jt808": 0}) as (gateway, ports, lt):
        calling, quiet = Terminal(ports["jt808"]), Terminal(ports["jt808"])
        for term, phone in ((calling, PHONE), (quiet, other_phone)):
            term.send(jt808_position(phone, 1))
            term.read_frame_7e()  # identified, and its session known
        listener = gateway.listeners["jt808"]
        calling_session, quiet_session = listener.sessions[sos_device.pk], listener.sessions[other.pk]
        read_now, released = threading.Event(), threading.Event()

        def one_pass_of_reads() -> None:  # on the loop, which reads no socket meanwhile
            calling_session.data_received(_position(2, sos=True))
            read_now.wait(30)
            quiet_session.data_received(jt808_position(other_phone, 2))
            released.wait(30)

        lt.loop.call_soon_threadsafe(one_pass_of_reads)
        try:
            wait_for(
                lambda: DeviceEventRecord.objects.filter(device=sos_device, serial=2).exists(), timeout=30
            )
            assert calling.expect_silence(0.5) == b"", "stored, and no ACK before the loop reads a connection"
            read_now.set()
            ack = calling.read_frame_7e(timeout=5)  # the loop is still in its pass
        finally:
            read_now.set()
            released.set()
        quiet.read_frame_7e()
    assert ack[1:3] == b"\x80\x01"  # the platform's general response to the SOS report


@pytest.mark.django_db(transaction=True)
def test_urgent_requests_in_flight_all_fail_when_the_child_dies_with_them():
    """The child dies with three urgent batches on its pipe: none is acknowledged, and the next
    SOS starts a new child and is stored."""
    if connection.vendor != "sqlite":
        pytest.skip("on PostgreSQL urgent batches never reach the child (decision 0141): the next tests")
    ensure_reference_data()
    sos = [_sos_frame(n) for n in range(11, 14)]
    with _ingestor("dying-urgent-node") as (ingestor, lt):
        writer = ingestor.writer_process
        assert writer is not None
        with _storage_held():
            futures = _submit_apart(ingestor, lt, sos)
            writer.kill()
            outcomes = lt.run(_outcomes(futures), timeout=60)
        assert all(isinstance(o, StorageError) for o in outcomes), outcomes
        (after,) = lt.run(_outcomes(lt.run(_submit_each(ingestor, [_sos_frame(14)]))), timeout=120)
    assert not isinstance(after, BaseException) and after[0].raw_frame_id == _raw_ids([_sos_frame(14)])[0]
    assert writer.restarts == 1


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_an_sos_is_stored_while_the_writer_process_is_frozen(monkeypatch):
    """Decision 0141: on PostgreSQL the `ingest-urgent` threads store an SOS themselves, so a
    writer process that does not run at all (stopped here with SIGSTOP; on a busy machine, one
    waiting for a CPU) neither holds it up nor is needed for it. Through the child's urgent
    thread, as before, the SOS waited until the child ran again."""
    if connection.vendor != "postgresql":
        pytest.skip("on SQLite urgent batches go through the child's urgent pipe")
    ensure_reference_data()
    sos, unbound = _sos_frame(5151), _sos_frame(5152)
    device = register_device(protocol="watch", identity=sos.events[0].device_id, device_type="watch")
    in_one = _calls_of(monkeypatch, ingest, "store_in_one_statement")
    with _ingestor("frozen-writer-node") as (ingestor, lt):
        writer = ingestor.writer_process
        assert writer is not None and writer.pid is not None
        os.kill(writer.pid, signal.SIGSTOP)
        try:
            stored = []
            for frame in (sos, unbound):
                (future,) = lt.run(_submit_each(ingestor, [frame]))
                stored += lt.run(asyncio.wait_for(asyncio.shield(future), 30), timeout=40)
                assert RawFrame.objects.filter(data=frame.raw).exists(), "stored while the child was stopped"
        finally:
            os.kill(writer.pid, signal.SIGCONT)
        assert ingestor.metrics.events_stored == 2
        adopted = list(ingestor._urgent_connections)
    assert [s.raw_frame_id for s in stored] == _raw_ids([sos, unbound])
    # A registered device's SOS in one statement (decision 0142), the other the inbox's way.
    assert in_one == [[sos], [unbound]] and [s.device_pk for s in stored] == [device.pk, None]
    assert UnknownDeviceInbox.objects.get().identity == unbound.events[0].device_id
    # The thread's connection was its own, and `stop` closed it.
    assert adopted and all(c is not connections["default"] for c in adopted)
    assert all(c.connection is None for c in adopted), "an urgent thread's connection left open"
    for s in stored:
        assert DeviceEventRecord.objects.filter(raw_frame_id=s.raw_frame_id, kind="alarm").count() == 1


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_an_sos_whose_connection_is_lost_is_not_acknowledged_and_the_next_is_stored(
    monkeypatch,
):
    """Decision 0141: the server ends the `ingest-urgent` thread's session while its SOS waits
    (for a lock here): the SOS is not acknowledged (`StorageError`, so the terminal resends), its
    frame is not stored, and the next SOS is stored on a fresh connection."""
    if connection.vendor != "postgresql":
        pytest.skip("on SQLite urgent batches go through the child's urgent pipe: the previous test")
    ensure_reference_data()
    first, second = _sos_frame(6161), _sos_frame(6162)
    register_device(protocol="watch", identity=first.events[0].device_id, device_type="watch")
    in_one = _calls_of(monkeypatch, ingest, "store_in_one_statement")
    with _ingestor("lost-urgent-node") as (ingestor, lt):
        with _storage_held(), connection.cursor() as cursor:
            (future,) = lt.run(_submit_each(ingestor, [first]))
            waiting = (
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )

            def blocked() -> list[int]:
                cursor.execute("SELECT pg_stat_clear_snapshot()")  # read afresh in this transaction
                cursor.execute(waiting)
                return [row[0] for row in cursor.fetchall()]

            wait_for(lambda: len(blocked()) == 1, timeout=30)
            (pid,) = blocked()
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            (lost,) = lt.run(_outcomes([future]), timeout=60)
        (after,) = lt.run(_outcomes(lt.run(_submit_each(ingestor, [second]))), timeout=60)
        assert ingestor.metrics.storage_failures == 1
    assert in_one == [[first], [second]], "the lost SOS was a registered device's: one statement"
    assert isinstance(lost, StorageError), lost
    assert not RawFrame.objects.filter(data=first.raw).exists()
    assert not isinstance(after, BaseException), after
    assert after[0].raw_frame_id == _raw_ids([second])[0]
