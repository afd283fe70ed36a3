"""A transaction aborted by a deadlock is retried, not dropped (decision 0112; S01, S04, Q1).

PostgreSQL breaks a deadlock by aborting one of the transactions. Before decision 0112 the rules
engine logged the applier as failed and still marked the batch processed: the batch's device state
and life signs (an SOS's too) were lost, and the connection bookkeeping failed every look-up of its
batch (closing up to 2,000 connections) and forgot its disconnections. Here the failure is injected
once at the database layer (`connection.execute_wrapper` raising the driver's `DeadlockDetected`
wrapped as Django's `OperationalError`, exactly what a real deadlock raises) on the real SQLite
database, in front of the real appliers: the transaction is run again and applied exactly once.
The real deadlock on PostgreSQL is in `test_deadlock_postgres.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

import pytest
from django.db import OperationalError, connection
from psycopg import errors as pg_errors

from pingantong.devices.actions import register_device
from pingantong.devices.models import DeviceState, LifeSign
from pingantong.gateway import pipeline
from pingantong.gateway.events import DeviceEvent, Position
from pingantong.gateway.ingest import FrameIn, store_batch
from pingantong.gateway.ingest.consumer import RulesConsumer
from pingantong.gateway.listeners.directory import DeviceDirectory
from pingantong.gateway.tests.gwtools import ensure_reference_data, queued

pytestmark = pytest.mark.django_db(transaction=True)

NODE = "deadlock-node"


@pytest.fixture(autouse=True)
def _reference_data():
    ensure_reference_data()


class FailOnce:
    """An execute wrapper that aborts the first statement starting with each given prefix, as
    PostgreSQL aborts a deadlock victim (SQLSTATE 40P01), or with another error when asked."""

    def __init__(self, *prefixes: str, error: type[Exception] = pg_errors.DeadlockDetected) -> None:
        self.pending = list(prefixes)
        self.error = error
        self.fired: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        for prefix in self.pending:
            if sql.lstrip().startswith(prefix):
                self.pending.remove(prefix)
                self.fired.append(prefix)
                cause = self.error("deadlock detected")
                raise OperationalError(str(cause)) from cause
        return execute(sql, params, many, context)


def _sos(identity: str, minutes_ago: int) -> FrameIn:
    event = DeviceEvent(
        protocol="watch",
        device_id=identity,
        message="AL",
        kind="alarm",
        alarms=["sos"],
        battery_pct=55,
        device_time=datetime.now(UTC) - timedelta(minutes=minutes_ago),
        position=Position(26.26, 117.63, True),
    )
    return FrameIn("watch", f"[SOS {identity}]".encode(), [event], identity=identity)


def test_is_transient_finds_deadlock_and_serialization_failure_in_the_chain():
    for cls in (pg_errors.DeadlockDetected, pg_errors.SerializationFailure):
        cause = cls("x")
        try:
            raise OperationalError("wrapped") from cause
        except OperationalError as exc:
            assert pipeline.is_transient(exc)
    assert not pipeline.is_transient(OperationalError("database is locked"))
    assert not pipeline.is_transient(ValueError("deadlock"))  # the words alone prove nothing


def test_an_sos_batch_aborted_by_a_deadlock_is_retried_and_applied_once(caplog):
    """The state, life-sign and alarm transactions are each aborted once: all three are run again,
    and the SOS gives one history row, one moved life sign, one alarm, one processed event."""
    from pingantong.alarms.models import Alarm

    device = register_device(protocol="watch", identity="8800000001", device_type="watch")
    store_batch([_sos("8800000001", 2)], NODE)
    fail = FailOnce(
        f'UPDATE "{DeviceState._meta.db_table}"',
        f'INSERT INTO "{LifeSign._meta.db_table}"',
        f'INSERT INTO "{Alarm._meta.db_table}"',
    )
    consumer = RulesConsumer(NODE)
    with (
        caplog.at_level(logging.WARNING, logger="pingantong.gateway.pipeline"),
        connection.execute_wrapper(fail),
    ):
        assert consumer.run_once() == 1
    assert len(fail.fired) == 3, f"every injected failure happened: {fail.fired}"
    engine = consumer.engine
    assert engine.transient_retries == 3
    assert engine.applier_failures == 0
    assert sum("retrying" in r.getMessage() for r in caplog.records) == 3
    state = DeviceState.objects.get(device=device)
    assert state.battery_pct == 55 and state.latitude == pytest.approx(26.26)
    assert state.last_life_sign_source == "sos" and state.last_life_sign_at is not None
    assert LifeSign.objects.filter(device=device, source="sos").count() == 1
    assert Alarm.objects.filter(device=device, alarm_type="sos").count() == 1
    assert not queued(NODE)


def test_other_errors_are_not_retried():
    """Only deadlocks and serialization failures are retried: a real fault still fails at once."""
    device = register_device(protocol="watch", identity="8800000002", device_type="watch")
    store_batch([_sos("8800000002", 2)], NODE)
    fail = FailOnce(f'UPDATE "{DeviceState._meta.db_table}"', error=pg_errors.UndefinedTable)
    consumer = RulesConsumer(NODE)
    with connection.execute_wrapper(fail):
        consumer.run_once()
    assert consumer.engine.transient_retries == 0
    assert consumer.engine.applier_failures == 1
    assert DeviceState.objects.get(device=device).battery_pct is None


def test_retries_end_after_the_last_attempt():
    calls: list[int] = []

    def always_deadlocked() -> None:
        calls.append(1)
        cause = pg_errors.DeadlockDetected("deadlock detected")
        raise OperationalError(str(cause)) from cause

    with pytest.raises(OperationalError):
        pipeline.atomic_retrying(always_deadlocked, what="test", attempts=3)
    assert len(calls) == 3


def test_connection_bookkeeping_aborted_by_a_deadlock_is_retried():
    """Look-ups still answer (no connection closed) and both the reconnects and the disconnects of
    the batch are recorded."""
    a = register_device(protocol="watch", identity="8800000003", device_type="watch")
    b = register_device(protocol="watch", identity="8800000004", device_type="watch")
    c = register_device(protocol="watch", identity="8800000005", device_type="watch")
    DeviceState.objects.filter(device=c).update(connected_node=NODE)
    directory = DeviceDirectory(NODE)
    fail = FailOnce(f'UPDATE "{DeviceState._meta.db_table}"')
    try:
        with connection.execute_wrapper(fail):
            found = directory._apply(
                [("watch", "8800000004"), ("watch", "8800000003")], {c.pk}, datetime.now(UTC)
            )
    finally:
        with contextlib.suppress(Exception):
            asyncio.run(directory.close())
    assert fail.fired
    assert directory.transient_retries == 1
    assert {info.pk for info in found.values()} == {a.pk, b.pk}
    nodes = dict(DeviceState.objects.values_list("device_id", "connected_node"))
    assert nodes == {a.pk: NODE, b.pk: NODE, c.pk: ""}
