"""Device-state writers on PostgreSQL never deadlock, and a deadlock forced on them is retried
(decision 0112; S01, S04, Q1), on a PostgreSQL database of this test's own.

During a mass reconnect under load the rules stage's appliers (one UPDATE per device, in the order
of the batch's events) and the gateway's connection bookkeeping (one multi-row UPDATE, rows locked
in the plan's order) locked the same `DeviceState` rows in different orders and deadlocked.

1. The real appliers (through `RulesEngine.apply`, two rules stages: batch order reversed and
   shuffled) and the real bookkeeping (`DeviceDirectory._apply`, shuffled reconnects and
   disconnects) run at once on 300 devices: no transaction is aborted (no retry, no failure). The
   same three threads with the writers' previous lock orders deadlock, within the same time.
2. A deadlock forced on the applier (another transaction holds a row the applier needs, then asks
   for one the applier holds; its `deadlock_timeout` is longer, so the applier is the one aborted)
   is retried: the SOS batch's state, life signs and alarms are applied once.

The Django side runs in subprocesses with DATABASE_URL set (the suite's own database may be SQLite).
"""

from __future__ import annotations

import os

import pytest

from pingantong.testing.scratch_postgres import scratch_postgres

pytestmark = [pytest.mark.services, pytest.mark.timeout(600)]


ORDER = """
import json, random, threading, time
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from pingantong.devices.actions import register_device
from pingantong.devices.models import DeviceState
from pingantong.gateway import pipeline
from pingantong.gateway.listeners.directory import DeviceDirectory

devices = [register_device(protocol="watch", identity=f"6600{i:04d}", device_type="watch") for i in range(N)]
pks = sorted(d.pk for d in devices)
identities = [("watch", d.identity) for d in devices]
TABLE = DeviceState._meta.db_table


def run(mode, seconds):
    stop = time.monotonic() + seconds
    counts = {"aborted": 0, "failed": 0, "rules_batches": 0, "bookkeeping_batches": 0}
    lock = threading.Lock()
    engines, directory = [], DeviceDirectory("node-" + mode)

    def bump(key, n=1):
        with lock:
            counts[key] += n

    def rules(order):
        engine = pipeline.RulesEngine()
        engines.append(engine)
        try:
            while time.monotonic() < stop and not (mode == "previous" and counts["aborted"]):
                now, ordered = timezone.now(), order(pks)
                if mode == "fixed":
                    engine.apply([pipeline.UpdateDeviceState(pk, now, battery_pct=50) for pk in ordered]
                                 + [pipeline.RecordLifeSign(pk, now, "steps") for pk in ordered])
                else:  # the appliers' previous order: one UPDATE per device, in the batch's order
                    try:
                        with transaction.atomic(), connection.cursor() as cursor:
                            cursor.executemany(
                                f'UPDATE "{TABLE}" SET "last_message_at" = %s WHERE "device_id" = %s',
                                [(now, pk) for pk in ordered],
                            )
                    except OperationalError as exc:
                        bump("aborted" if pipeline.is_transient(exc) else "failed")
                bump("rules_batches")
        finally:
            connection.close()

    def bookkeeping():
        try:
            i = 0
            while time.monotonic() < stop and not (mode == "previous" and counts["aborted"]):
                shuffled = random.sample(identities, len(identities))
                held = shuffled if i % 2 == 0 else shuffled[: N // 2]
                gone = set() if i % 2 == 0 else set(pks[N // 2 :])
                if mode == "fixed":
                    directory._apply(held, gone, timezone.now())
                else:  # the bookkeeping's previous write: one multi-row UPDATE, no lock order
                    try:
                        with transaction.atomic():
                            DeviceState.objects.filter(device_id__in=pks).update(
                                connected_node="node-previous", connected_since=timezone.now()
                            )
                    except OperationalError as exc:
                        bump("aborted" if pipeline.is_transient(exc) else "failed")
                bump("bookkeeping_batches")
                i += 1
        finally:
            connection.close()

    threads = [
        threading.Thread(target=rules, args=(lambda p: list(reversed(p)),)),
        threading.Thread(target=rules, args=(lambda p: random.sample(p, len(p)),)),
        threading.Thread(target=bookkeeping),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if mode == "fixed":
        counts["aborted"] = sum(e.transient_retries for e in engines) + directory.transient_retries
        counts["failed"] = sum(e.applier_failures for e in engines)
    return counts


previous = run("previous", 30)
fixed = run("fixed", SECONDS)
states = list(DeviceState.objects.filter(device_id__in=pks).values_list("battery_pct", "last_life_sign_source"))
print(json.dumps({"previous": previous, "fixed": fixed, "states": sorted(set(map(tuple, states)))}))
"""

FORCED = """
import json, threading, time
from datetime import timedelta
import psycopg
from django.utils import timezone
from pingantong.alarms.models import Alarm
from pingantong.devices.actions import register_device
from pingantong.devices.models import DeviceState, LifeSign, UnprocessedEvent
from pingantong.gateway.events import DeviceEvent
from pingantong.gateway.ingest import FrameIn, store_batch
from pingantong.gateway.ingest.consumer import RulesConsumer

NODE = "forced"
devices = [register_device(protocol="watch", identity=f"7700{i}", device_type="watch") for i in range(2)]
first, second = sorted(d.pk for d in devices)
now = timezone.now()
store_batch([
    FrameIn("watch", b"[SOS]", [DeviceEvent(protocol="watch", device_id=d.identity, message="AL", kind="alarm",
            alarms=["sos"], battery_pct=40, device_time=now - timedelta(minutes=1))], identity=d.identity)
    for d in devices
], NODE)
out = {}
ready = threading.Event()


def other_transaction():
    with psycopg.connect(URL) as conn, psycopg.connect(URL, autocommit=True) as watch:
        conn.execute("SET deadlock_timeout = '10s'")  # the applier (1 s) detects the cycle: its victim
        conn.execute("SELECT 1 FROM devices_devicestate WHERE device_id = %s FOR UPDATE", [second])
        ready.set()
        for _ in range(1000):  # until the applier, holding `first`, waits for `second`
            if watch.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()"
            ).fetchone()[0]:
                break
            time.sleep(0.01)
        started = time.monotonic()
        conn.execute("UPDATE devices_devicestate SET signal_pct = 7 WHERE device_id = %s", [first])
        out["other_waited_s"] = round(time.monotonic() - started, 3)
        conn.commit()


thread = threading.Thread(target=other_transaction)
thread.start()
ready.wait()
consumer = RulesConsumer(NODE)
out["events"] = consumer.run_once()
thread.join()
out.update(
    retries=consumer.engine.transient_retries,
    failures=consumer.engine.applier_failures,
    states=sorted(DeviceState.objects.filter(device_id__in=[first, second]).values_list(
        "device_id", "battery_pct", "signal_pct", "last_life_sign_source")),
    life_signs=LifeSign.objects.filter(device_id__in=[first, second], source="sos").count(),
    alarms=Alarm.objects.filter(device_id__in=[first, second], alarm_type="sos").count(),
    unprocessed=UnprocessedEvent.objects.filter(gateway_node=NODE).count(),
    first=first,
)
print(json.dumps(out, default=list))
"""


@pytest.fixture(scope="module")
def pg(tmp_path_factory):
    with scratch_postgres(f"pingantong_deadlock_{os.getpid()}", tmp_path_factory.mktemp("var")) as db:
        db.manage("migrate", "-v0")
        yield db


def test_appliers_and_bookkeeping_in_opposite_orders_never_deadlock(pg):
    result = pg.script(ORDER, N=300, SECONDS=8.0)
    previous, fixed = result["previous"], result["fixed"]
    # The workload does make the previous lock orders deadlock (else the next check proves nothing).
    assert previous["aborted"] >= 1, previous
    # The real writers, in one lock order, over many overlapping batches: nothing aborted.
    assert fixed["rules_batches"] >= 4 and fixed["bookkeeping_batches"] >= 4, fixed
    assert fixed["aborted"] == 0 and fixed["failed"] == 0, fixed
    assert result["states"] == [[50, "steps"]], "every device's state and life sign were applied"


def test_a_deadlock_forced_on_the_applier_is_retried_and_the_sos_applied_once(pg):
    out = pg.script(FORCED, URL=pg.url)
    assert out["events"] == 2
    assert out["other_waited_s"] >= 0.5, "the other transaction waited for the applier: a real cycle"
    assert out["retries"] >= 1, out
    assert out["failures"] == 0, out
    assert out["life_signs"] == 2 and out["alarms"] == 2, out
    assert out["unprocessed"] == 0
    states = {row[0]: row[1:] for row in out["states"]}
    assert states[out["first"]] == [40, 7, "sos"], "the other transaction's write and the applier's both kept"
    assert all(battery == 40 and source == "sos" for battery, _signal, source in states.values())


REBIND = """
import json, threading, time
import psycopg
from django.db import connection, transaction
from django.utils import timezone
from pingantong.devices.actions import _lock_client_id, _start_binding, register_device
from pingantong.devices.models import DeviceState, LifeSign
from pingantong.gateway import pipeline

device = register_device(protocol="watch", identity="78000001", device_type="watch")
out = {}


def applier():
    try:
        engine = pipeline.RulesEngine()
        engine.apply([pipeline.RecordLifeSign(device.pk, timezone.now(), "sos")])
        out.update(retries=engine.transient_retries, failures=engine.applier_failures)
    finally:
        connection.close()


thread = threading.Thread(target=applier)
with psycopg.connect(URL, autocommit=True) as watch:
    # bind_device's locks, by its own functions: Device FOR UPDATE, then the DeviceState row.
    with transaction.atomic():
        _lock_client_id(device)
        thread.start()
        for _ in range(1000):  # until the applier waits (for the Device row, to insert its history)
            if watch.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()"
            ).fetchone()[0]:
                break
            time.sleep(0.01)
        started = time.monotonic()
        _start_binding(device_pk=device.pk, previous_client_id=None, now=timezone.now())
        out["binding_waited_s"] = round(time.monotonic() - started, 3)
thread.join()
out["life_signs"] = LifeSign.objects.filter(device=device, source="sos").count()
out["state_source"] = DeviceState.objects.get(device=device).last_life_sign_source
print(json.dumps(out))
"""


def test_rebinding_and_the_life_sign_applier_take_device_before_device_state(pg):
    """The applier inserts the SOS's history (share-locking the Device row) before it locks the
    state row, as rebinding locks Device, then DeviceState: the two wait, never in a cycle."""
    out = pg.script(REBIND, URL=pg.url)
    assert out["retries"] == 0 and out["failures"] == 0, out
    assert out["binding_waited_s"] < 0.5, "the binding did not wait for a row the applier held"
    # The SOS happened before the new binding: kept in the history, not moving the state (0111).
    assert out["life_signs"] == 1 and out["state_source"] == "", out
