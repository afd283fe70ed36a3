"""The rules stage's cost does not grow in statements with its batch (issue 4's throughput, decision
0113): reading a batch, updating the devices' state and life signs and marking the events processed
take the same number of database statements for 20 events as for 200 (one UPDATE per device is sent
as one executemany, or one set-based UPDATE on PostgreSQL), and nothing is read per event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pingantong.devices.models import Device, DeviceEventRecord, DeviceState
from pingantong.gateway.events import DeviceEvent, Position
from pingantong.gateway.ingest import FrameIn, store_batch
from pingantong.gateway.ingest.consumer import RulesConsumer
from pingantong.gateway.tests.gwtools import ensure_reference_data, queued, requeue

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
"""Two hours ago at most three: well inside the rules process's first look-back for calls for
help (LANE_FIRST_WINDOW, 6 h), and in the past, whatever the day the suite runs."""


@pytest.fixture(autouse=True)
def _reference_data():
    ensure_reference_data()


def _statements_for(count: int, node: str) -> int:
    """Statements the rules consumer runs for one batch of `count` reports from `count` watches
    (each report a position, a battery reading and rising steps: state and life sign both move)."""
    Device.objects.bulk_create(
        [Device(protocol="watch", identity=f"{node}{n:04d}", device_type_id="watch") for n in range(count)]
    )
    DeviceState.objects.bulk_create(
        [DeviceState(device=d) for d in Device.objects.filter(identity__startswith=node)]
    )
    frames = []
    for n in range(count):
        at = T0 + timedelta(seconds=n)
        event = DeviceEvent(
            protocol="watch",
            device_id=f"{node}{n:04d}",
            message="UD",
            kind="position",
            device_time=at,
            position=Position(26.2, 117.6, True, speed_kmh=4.0),
            battery_pct=70,
            steps=1000 + n,
        )
        frames.append(FrameIn("watch", b"[UD]", [event], identity=event.device_id, received_at=at))
    store_batch(frames, node)
    consumer = RulesConsumer(node, batch=1000)
    consumer.run_once()  # the first batch of a process also loads modules: not counted
    requeue(DeviceEventRecord.objects.filter(gateway_node=node))
    consumer = RulesConsumer(node, batch=1000)
    with CaptureQueriesContext(connection) as queries:
        assert consumer.run_once() == count
    assert not queued(node)
    return len(queries.captured_queries)


def test_a_batch_costs_the_same_statements_for_20_events_as_for_200():
    small = _statements_for(20, "cost-a")
    large = _statements_for(200, "cost-b")
    assert small == large, f"{small} statements for 20 events, {large} for 200"
    assert large <= 20, f"{large} statements for one batch"


def test_a_batch_writes_each_state_row_once_in_one_transaction_that_also_dequeues_it(monkeypatch):
    """Decision 0135: the devices app's one applier moves state and life sign together (one UPDATE
    of the state rows, not one for each), and the batch leaves the rules queue in that applier's
    transaction: one COMMIT a batch of positions (it was two, and an autocommitted DELETE)."""
    from pingantong.devices.models import UnprocessedEvent

    _statements_for(30, "cost-d")
    requeue(DeviceEventRecord.objects.filter(gateway_node="cost-d"))
    DeviceState.objects.filter(device__identity__startswith="cost-d").update(
        battery_pct=None,
        steps=None,
        latitude=None,
        position_at=None,
        last_message_at=None,
        last_life_sign_at=None,
    )
    consumer = RulesConsumer("cost-d", batch=1000)
    commits: list[bool] = []
    dequeued_in_transaction: list[bool] = []
    real_commit = connection.commit
    monkeypatch.setattr(connection, "commit", lambda: commits.append(True) or real_commit())
    queue = f'DELETE FROM "{UnprocessedEvent._meta.db_table}"'

    def watch(execute, sql, params, many, context):
        if sql.startswith(queue):
            dequeued_in_transaction.append(connection.in_atomic_block)
        return execute(sql, params, many, context)

    with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(watch):
        assert consumer.run_once() == 30
    state_updates = [
        q for q in queries.captured_queries if f'UPDATE "{DeviceState._meta.db_table}"' in q["sql"]
    ]
    assert len(state_updates) == 1, [q["sql"][:80] for q in state_updates]
    assert dequeued_in_transaction == [True]
    assert len(commits) == 1
    assert not queued("cost-d")
    state = DeviceState.objects.get(device__identity="cost-d0029")
    assert state.battery_pct == 70 and state.steps == 1029 and state.latitude == 26.2
    assert state.last_life_sign_at == T0 + timedelta(seconds=29)


def test_the_rules_consumer_keeps_its_connection_across_batches():
    """Reconnecting at every batch (SQLite: CONN_MAX_AGE 0) re-ran the connection's PRAGMAs each
    time: ~7 % of the rules process's time."""
    _statements_for(5, "cost-c")
    consumer = RulesConsumer("cost-c")
    requeue(DeviceEventRecord.objects.filter(gateway_node="cost-c"))
    consumer.run_once()
    first = connection.connection
    requeue(DeviceEventRecord.objects.filter(gateway_node="cost-c"))
    consumer.run_once()
    assert first is not None and connection.connection is first


def test_the_rules_process_keeps_no_query_log_even_under_debug(settings):
    """The child runs the parent's settings module (`local`: DEBUG on); Django would then format
    and keep every query it runs."""
    from django.db import connections

    from pingantong.gateway.ingest.consumer import _never_log_queries

    settings.DEBUG = True
    wrapper = connections.create_connection("default")
    try:
        _never_log_queries(wrapper)
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT 1")
        assert len(wrapper.queries_log) == 0
    finally:
        wrapper.close()
