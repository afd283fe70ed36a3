"""The urgent journal (decision 0130; issue 4, S01, D1): on SQLite an SOS is acknowledged once it
is durable in a journal file of its own, without waiting for the database's write lock, and
reaches the database right after; whatever the journal holds and the database does not is stored
again, once."""

from __future__ import annotations

import contextlib
import dataclasses
import pickle
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from pingantong.devices.actions import register_device
from pingantong.devices.models import DeviceEventRecord, RawFrame
from pingantong.gateway.events import DeviceEvent, Position
from pingantong.gateway.ingest import FrameIn, Ingestor, store_batch, urgent_journal_wanted
from pingantong.gateway.ingest.journal import UrgentJournal, slot_path
from pingantong.gateway.ingest.writerproc import EVENT_FIELDS, POSITION_FIELDS, encode_frames
from pingantong.gateway.tests.gwtools import (
    Terminal,
    ensure_reference_data,
    is_processed,
    journal_events,
    jt808_position,
    running_gateway,
)
from pingantong.testing.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

IDENTITY = "13912340073"
PHONE = bytes.fromhex("013912340073")

sqlite_file_only = pytest.mark.skipif(
    "connection.vendor != 'sqlite'", reason="the urgent journal is SQLite's (PostgreSQL takes many writers)"
)


@contextlib.contextmanager
def _database_locked() -> Iterator[None]:
    """Another writer holds SQLite's write lock (a web request, the worker: anything)."""
    other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None, timeout=5)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def _sos_frame(serial: int) -> FrameIn:
    received = datetime.now(UTC) - timedelta(seconds=60 - serial)
    return FrameIn(
        "jt808",
        jt808_position(PHONE, serial, sos=True),
        [
            DeviceEvent(
                protocol="jt808",
                device_id=IDENTITY,
                message="0x0200",
                kind="alarm",
                alarms=["sos"],
                position=Position(26.26, 117.63, True, 0.0, 0.0, 10.0, 7),
                serial=serial,
            )
        ],
        "10.0.0.5:1",
        None,
        None,
        received,
    )


@sqlite_file_only
@pytest.mark.parametrize("mode", ["thread", "process"])
def test_an_sos_is_acknowledged_from_the_journal_while_another_writer_holds_the_database(mode):
    ensure_reference_data()
    device = register_device(protocol="jt808", identity=IDENTITY, device_type="jt808_tracker")
    ingestor = Ingestor(node=f"journal-{mode}", rules=mode, writer=mode)
    with running_gateway(ingestor=ingestor, ports={"jt808": 0}) as (_gateway, ports, lt):
        assert ingestor.journal is not None
        path = ingestor.journal.path
        term = Terminal(ports["jt808"])
        term.send(jt808_position(PHONE, 1))
        term.read_frame_7e()
        with _database_locked():
            started = time.monotonic()
            term.send(jt808_position(PHONE, 2, sos=True))
            term.read_frame_7e()  # answered while the database is still locked
            acked_after = time.monotonic() - started
            assert [e.serial for e in journal_events(ingestor)] == [2]
            assert not DeviceEventRecord.objects.filter(device=device, serial=2).exists()
            # The connection's next frame waits for the SOS to reach the database: no reply yet.
            term.send(jt808_position(PHONE, 3))
            assert term.expect_silence(1.0) == b""
        term.read_frame_7e()  # the position's reply, once the database took both
        sos = DeviceEventRecord.objects.get(device=device, serial=2)
        after = DeviceEventRecord.objects.get(device=device, serial=3)
        assert sos.alarms == ["sos"] and sos.pk < after.pk, "a device's events reach the database in order"
        wait_for(lambda: not journal_events(ingestor))  # removed once the database has it
        lt.run(ingestor.drain_rules(), timeout=120)
        assert ingestor.stats()["journaled"] == 1
        from pingantong.alarms.models import Alarm

        assert Alarm.objects.filter(device=device).count() == 1
    assert acked_after < 5.0
    assert not path.exists(), "an empty journal is removed at stop"


@sqlite_file_only
def test_an_sos_is_journaled_and_answered_on_the_loop_while_the_journal_thread_is_busy():
    """Decision 0139: the event loop appends to the journal and answers in the callback that read
    the frame. The journal thread (removals, the replay, adoption, checkpoints) may be busy: the
    call for help does not wait for it, and its removal happens once the thread is free."""
    ensure_reference_data()
    device = register_device(protocol="jt808", identity=IDENTITY, device_type="jt808_tracker")
    ingestor = Ingestor(node="journal-inline")
    with running_gateway(ingestor=ingestor, ports={"jt808": 0}) as (_gateway, ports, _lt):
        assert ingestor.journal is not None and ingestor._journal_pool is not None
        term = Terminal(ports["jt808"])
        term.send(jt808_position(PHONE, 1))
        term.read_frame_7e()
        busy = threading.Event()
        ingestor._journal_pool.submit(busy.wait, 30)
        try:
            with _database_locked():
                term.send(jt808_position(PHONE, 2, sos=True))
                term.read_frame_7e(timeout=5)  # neither the database nor the journal thread needed
                assert [e.serial for e in journal_events(ingestor)] == [2]
        finally:
            busy.set()
        wait_for(lambda: DeviceEventRecord.objects.filter(device=device, serial=2).exists())
        wait_for(lambda: not journal_events(ingestor))  # removed by the thread once it was free
        assert ingestor.stats()["journaled"] == 1


@sqlite_file_only
def test_the_replay_never_takes_an_entry_the_loop_is_appending(tmp_path):
    """The loop appends and marks the entry in flight in one `turn`; the replay reads which entries
    are not in flight in its own: an SOS being journaled is never stored a second time by the
    replay (decision 0139)."""
    ensure_reference_data()
    ingestor = Ingestor(node="journal-turn")
    ingestor.journal = UrgentJournal(tmp_path / "journal")
    try:
        with ingestor.journal.turn:
            entry = ingestor.journal.append([_sos_frame(3)])
            # The replay in another thread now waits for the turn instead of reading the entry.
            result: list = []

            def read_for_replay() -> None:
                try:
                    result.append(ingestor._entries_to_store())
                finally:
                    connection.close()  # this thread's

            replay = threading.Thread(target=read_for_replay)
            replay.start()
            replay.join(0.3)
            assert replay.is_alive(), "the replay waits while the loop holds the turn"
            ingestor._journal_in_flight.add(entry)
        replay.join(10)
        assert result == [[]], "the entry was marked in flight before the replay could read it"
        ingestor._journal_in_flight.discard(entry)
        assert [e for e, _ in ingestor._entries_to_store()] == [entry]  # not in flight: replayed
        assert ingestor._journal_in_flight == {entry}
    finally:
        ingestor.journal.close()


@sqlite_file_only
def test_entries_gateways_that_died_left_are_stored_once_at_start():
    ensure_reference_data()
    device = register_device(protocol="jt808", identity=IDENTITY, device_type="jt808_tracker")
    database = str(connection.settings_dict["NAME"])
    # What gateways killed at the wrong moment leave. In the slot the next gateway claims (the
    # first free one): an SOS the database never got, and one it got before the entry could be
    # removed. In another slot that no gateway owns any more: one more SOS the database never got.
    lost, got, other = _sos_frame(7), _sos_frame(8), _sos_frame(9)
    store_batch([got], "died")
    first, third = UrgentJournal(slot_path(database, 1)), UrgentJournal(slot_path(database, 3))
    first.append([lost])
    first.append([got])
    third.append([other])
    first.close()
    third.close()
    ingestor = Ingestor(node="journal-left")
    with running_gateway(ingestor=ingestor, ports={"jt808": 0}) as (_gateway, _ports, lt):
        assert ingestor.journal is not None and ingestor.journal.path == slot_path(database, 1)
        wait_for(lambda: DeviceEventRecord.objects.filter(device=device, serial__in=[7, 9]).count() == 2)
        wait_for(lambda: not journal_events(ingestor))
        lt.run(ingestor.drain_rules(), timeout=60)
        assert ingestor.stats()["journal_replayed"] == 2
        assert not slot_path(database, 3).exists(), "the orphaned journal was emptied and removed"
    for serial in (7, 8, 9):
        assert DeviceEventRecord.objects.filter(device=device, serial=serial).count() == 1, "never twice"
    assert RawFrame.objects.filter(device=device).count() == 3
    replayed = DeviceEventRecord.objects.get(device=device, serial=7)
    assert is_processed(replayed.pk), "the rules stage ran the replayed SOS"


def test_each_gateway_owns_its_own_journal_and_adopts_only_the_dead_ones(tmp_path):
    database = str(tmp_path / "db.sqlite3")
    mine = UrgentJournal.claim(database)
    other = UrgentJournal.claim(database)  # another gateway process on the same database
    assert (mine.path, other.path) == (slot_path(database, 1), slot_path(database, 2))
    other.append([_sos_frame(1)])
    assert mine.adopt_orphans(database) == 0, "a running gateway's journal is its own"
    other.release()  # that gateway dies: the kernel drops its lock, its entry stays
    assert other.path.exists()
    assert mine.adopt_orphans(database) == 1
    assert [frames[0].events[0].serial for _, frames in mine.entries() if frames] == [1]
    assert not other.path.exists()
    again = UrgentJournal.claim(database)  # a restarted gateway takes the free slot again
    assert again.path == slot_path(database, 2)
    again.release()
    # Someone reads a running gateway's journal while it is empty: only the owner removes an
    # empty journal, or the owner's next entry would go to a file no longer there.
    mine.remove([entry for entry, _ in mine.entries()])
    reader = UrgentJournal(mine.path)
    assert reader.entries() == []
    reader.close()
    assert mine.path.exists()
    mine.append([_sos_frame(2)])
    reader = UrgentJournal(mine.path)
    assert len(reader.entries()) == 1
    reader.close()
    mine.release()
    assert mine.path.exists(), "it holds an entry: kept for the next start"


@sqlite_file_only
def test_an_sos_the_database_did_not_take_stays_in_the_journal_and_is_stored_again():
    ensure_reference_data()
    device = register_device(protocol="jt808", identity=IDENTITY, device_type="jt808_tracker")
    ingestor = Ingestor(node="journal-retry", rules="process", writer="process")
    with running_gateway(ingestor=ingestor, ports={"jt808": 0}) as (gateway, ports, _lt):
        writer = ingestor.writer_process
        assert writer is not None
        term = Terminal(ports["jt808"])
        term.send(jt808_position(PHONE, 3))  # identified (the registry look-up) before the lock
        term.read_frame_7e()
        with _database_locked():
            term.send(jt808_position(PHONE, 4, sos=True))
            term.read_frame_7e()  # durable in the journal: acknowledged
            writer.kill()  # the store dies with the SOS: the database never gets it from there
            assert term.expect_silence(10.0) == b"<closed>"
            assert [e.serial for e in journal_events(ingestor)] == [4]
        wait_for(lambda: DeviceEventRecord.objects.filter(device=device, serial=4).exists())
        wait_for(lambda: not journal_events(ingestor))
        stats = ingestor.stats()
        assert stats["journal_replayed"] == 1 and stats["writer_process_restarts"] == 1
        assert gateway.listeners["jt808"].metrics.unacked_storage_failure == 0, "it was acknowledged"
    assert DeviceEventRecord.objects.filter(device=device, serial=4).count() == 1


@sqlite_file_only
def test_without_a_journal_an_sos_is_acknowledged_after_the_databases_commit(tmp_path):
    ensure_reference_data()
    device = register_device(protocol="jt808", identity=IDENTITY, device_type="jt808_tracker")
    ingestor = Ingestor(node="journal-broken")
    (tmp_path / "file").write_text("")
    with running_gateway(ingestor=ingestor, ports={"jt808": 0}) as (_gateway, ports, _lt):
        journal, pool = ingestor.journal, ingestor._journal_pool
        assert journal is not None and pool is not None
        pool.submit(journal.close).result()
        journal.path = tmp_path / "file" / "journal"  # cannot be created now: appends fail
        term = Terminal(ports["jt808"])
        term.send(jt808_position(PHONE, 4))
        term.read_frame_7e()
        with _database_locked():
            term.send(jt808_position(PHONE, 5, sos=True))
            assert term.expect_silence(1.5) == b"", "no ACK before the SOS is stored somewhere"
        term.read_frame_7e()
        assert DeviceEventRecord.objects.filter(device=device, serial=5).exists()
        assert ingestor.stats()["journal_failures"] == 1


@pytest.mark.django_db
def test_the_journal_is_sqlites_and_can_be_turned_off(monkeypatch):
    if connection.vendor != "sqlite":
        assert not urgent_journal_wanted() and not urgent_journal_wanted(True)
        assert not Ingestor(node="pg").journal_wanted
        return
    assert urgent_journal_wanted()
    monkeypatch.setenv("PINGANTONG_GATEWAY_URGENT_JOURNAL", "0")
    assert not urgent_journal_wanted()
    assert not Ingestor(node="off").journal_wanted
    assert urgent_journal_wanted(True)


def test_an_entry_written_by_another_version_is_read_by_field_name_or_kept(tmp_path):
    frame = _sos_frame(9)
    journal = UrgentJournal(tmp_path / "journal")
    entry = journal.append([frame])
    assert journal.entries() == [(entry, [frame])]
    # An older gateway whose events had one field more and whose positions had the same fields:
    # the unknown field is dropped, the rest read by name.
    event = frame.events[0]
    fields = (*EVENT_FIELDS, "retired_field")
    values = tuple(
        dataclasses.astuple(event.position) if name == "position" else getattr(event, name)
        for name in EVENT_FIELDS
    )
    row = (
        frame.protocol,
        frame.raw,
        frame.peer,
        frame.identity,
        frame.error,
        frame.received_at,
        [(*values, 1)],
    )
    old = pickle.dumps(([], [row]))
    db = sqlite3.connect(journal.path)
    db.execute(
        "INSERT INTO entry (written_at, format, payload) VALUES (0, 1, ?)",
        (pickle.dumps((fields, POSITION_FIELDS, old)),),
    )
    db.execute("INSERT INTO entry (written_at, format, payload) VALUES (0, 99, x'00')")  # a later format
    db.commit()
    db.close()
    read = journal.entries()
    assert read[1][1] == [frame]
    assert read[2][1] is None, "an entry this version cannot read is kept, not dropped"
    journal.close()
    assert journal.path.exists(), "a journal holding entries stays"
    assert encode_frames([frame])  # the same encoding as the writer process's pipe


@sqlite_file_only
def test_an_entry_the_database_keeps_refusing_is_tried_a_few_times_then_kept_for_the_next_start(monkeypatch):
    import asyncio

    from pingantong.gateway import ingest

    monkeypatch.setattr(ingest, "JOURNAL_RETRY_SECONDS", 0.05)
    with connection.cursor() as cursor:  # a database that refuses this one frame, every time
        cursor.execute(
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON devices_rawframe WHEN NEW.peer = 'poison' "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
    poison = _sos_frame(6)
    poison.peer = "poison"

    async def refused() -> tuple[object, int, int]:
        ingestor = Ingestor(node="journal-refused")
        await ingestor.start()
        try:
            acked, outcome = asyncio.Event(), asyncio.get_running_loop().create_future()
            ingestor.submit_callback([poison], outcome.set_result, acked.set)
            await asyncio.wait_for(acked.wait(), 10)
            result = await asyncio.wait_for(outcome, 30)
            deadline = time.monotonic() + 30
            while max(ingestor._journal_attempts.values(), default=0) < ingest.JOURNAL_ATTEMPTS:
                assert time.monotonic() < deadline, ingestor._journal_attempts
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # no further attempt
            return result, max(ingestor._journal_attempts.values()), ingestor.stats()["journal_replayed"]
        finally:
            await ingestor.stop()

    result, attempts, replayed = asyncio.run(refused())
    assert isinstance(result, Exception)
    assert attempts == ingest.JOURNAL_ATTEMPTS and replayed == ingest.JOURNAL_ATTEMPTS - 1
    journal = UrgentJournal(slot_path(str(connection.settings_dict["NAME"]), 1))
    assert [frames for _, frames in journal.entries()] == [[poison]], "kept, not dropped"
    journal.close()

    with connection.cursor() as cursor:  # the database takes it again: the next start stores it
        cursor.execute("DROP TRIGGER refuse_poison")

    async def restarted() -> None:
        ingestor = Ingestor(node="journal-refused")
        await ingestor.start()
        try:
            deadline = time.monotonic() + 30
            while not await asyncio.to_thread(RawFrame.objects.filter(peer="poison").exists):
                assert time.monotonic() < deadline
                await asyncio.sleep(0.1)
        finally:
            await ingestor.stop()

    asyncio.run(restarted())
    assert RawFrame.objects.filter(peer="poison").count() == 1
