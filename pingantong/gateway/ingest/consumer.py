"""The rules stage outside the gateway's process: a consumer of committed events (decision 0094).

ARCHITECTURE.md §3: after commit, each stored event goes to the rules in order per device. In the
default mode the gateway's own rules thread does that (`Ingestor`, `rules="thread"`). With
`rules="process"` (setting or environment `PINGANTONG_GATEWAY_RULES=process`) the gateway only
stores and acknowledges; a child process started by its ingestor reads the node's committed,
unprocessed events (the rules queue, `UnprocessedEvent`, decision 0132) **in id order** (one
writer per node allocates ids in commit order, so this is commit order, hence each device's
order), runs them through the same `RulesEngine`, and takes them off the queue. The gateway wakes
it after every commit; it also looks every second by itself.
A consumer that starts (first start, restart after a crash) begins with whatever the node stored
and did not process, so nothing committed is skipped, and nothing marked processed is run again.

Why: the rules (device state, life signs, the alarm centre) cost about as much CPU per event as
storing it, and in the gateway's process they share one GIL with the event loop that answers
10,000 terminals. In a process of their own they run beside it, on the other core.

Live pushes from a rules process reach consoles through the channel layer (Redis in the scaled
mode) or, without Redis, through the web process's alarm relay (decision 0040, ~1 s), which is why
the embedded default keeps the rules thread.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import os
import select
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import DatabaseError

from pingantong.gateway import fastjson, pgarray
from pingantong.gateway.events import DeviceEvent, Position
from pingantong.gateway.pipeline import URGENT_ALARMS, DeviceRef, RulesEngine, StoredEvent, is_urgent

log = logging.getLogger("pingantong.gateway.rules")

BATCH = 500
SQLITE_BATCH = 250
"""Events per batch. An urgent event waits at most for the batch in progress (the lane runs between
batches): ~50 ms on SQLite, ~100 ms on PostgreSQL under the benchmark's load (decision 0113)."""
POLL_SECONDS = 1.0
SWEEP_SECONDS = 30.0
"""Every so often the backlog is read again from the oldest unprocessed event, not from where the
last batch ended: an event committed out of id order (another writer under the same node name) or
left unprocessed by a failed applier after a restart is never skipped for good."""

LANE_WINDOW = timedelta(minutes=2)
LANE_FIRST_WINDOW = timedelta(hours=6)
"""How far back (by `received_at`) the priority lane looks for urgent events: the partial index of
alarm rows (`event_alarm_time`, decision 0091) makes that a look at a few index entries. At start
(a restart with a backlog) it looks further back, so the calls for help of the backlog go first."""


class RulesConsumer:
    """Runs one node's committed, unprocessed events through the rules, in id order, with a
    priority lane for urgent alarms (S01, decision 0113)."""

    def __init__(self, node: str, engine: RulesEngine | None = None, batch: int | None = None) -> None:
        from django.db import connection

        self.node = node
        self.engine = engine if engine is not None else RulesEngine()
        # SQLite: the ingest writer waits while a batch's decisions are applied (one write lock),
        # so keep batches smaller there.
        self.batch = batch or (SQLITE_BATCH if connection.vendor == "sqlite" else BATCH)
        self.processed = 0
        self.batches = 0
        self.lane_passes = 0
        self.lane_events = 0
        self.rules_seconds = 0.0
        self._cpu_started = time.process_time()
        self._cursor = 0  # the last id read by `pending` (ids of one node commit in order)
        self._swept_at = time.monotonic()
        self._lane_cursor = 0
        self._lane_since: datetime | None = None
        self._sql: _Sql | None = None

    def _statements(self) -> _Sql:
        if self._sql is None:
            self._sql = _Sql()
        return self._sql

    def pending(self) -> list[StoredEvent]:
        """The next batch: this node's events not yet processed, oldest id first (from where the
        last batch ended; from the oldest unprocessed one at the first call and every
        `SWEEP_SECONDS`). Plain SQL and no Django converters: this read was a quarter of the
        rules process's time through the ORM."""
        from django.db import connection

        sql = self._statements()
        if time.monotonic() - self._swept_at >= SWEEP_SECONDS:
            self._cursor = 0
            self._swept_at = time.monotonic()
        with connection.cursor() as cursor:
            while True:
                cursor.execute(sql.queued, [self.node, self._cursor, self.batch])
                ids = [row[0] for row in cursor.fetchall()]
                if not ids:
                    return []
                self._cursor = ids[-1]
                rows = sql.events(cursor, ids)
                if len(rows) < len(ids):
                    self._drop_gone(ids, rows)
                if rows:
                    return sql.stored_events(cursor, rows, self.node)

    def _drop_gone(self, ids: list[int], rows: list[tuple]) -> None:
        """Queued, but the event is gone (its partition dropped, or deleted by hand): nothing left to
        process, so off the queue, or every sweep would read it again."""
        found = {row[0] for row in rows}
        gone = [i for i in ids if i not in found]
        log.warning("%d queued event(s) of %s no longer stored; taken off the queue", len(gone), self.node)
        dequeue(self.node, gone)

    def urgent_pending(self) -> list[StoredEvent]:
        """This node's unprocessed events with an urgent alarm (`pipeline.is_urgent`) committed
        since the last look: alarm rows only, through their partial index."""
        from django.db import connection

        sql = self._statements()
        now = datetime.now(UTC)
        since = self._lane_since or now - LANE_FIRST_WINDOW
        with connection.cursor() as cursor:
            cursor.execute(
                sql.alarm_rows, [connection.ops.adapt_datetimefield_value(since), self._lane_cursor]
            )
            found = cursor.fetchall()
            self._lane_since = now - LANE_WINDOW
            if not found:
                return []
            self._lane_cursor = max(row[0] for row in found)
            urgent = [row[0] for row in found if row[2] == self.node and _urgent_text(row[1])]
            wanted = sorted(sql.still_queued(cursor, self.node, urgent)) if urgent else []
            if not wanted:
                return []
            cursor.execute(sql.by_ids(len(wanted)), wanted)
            rows = cursor.fetchall()
            return sql.stored_events(cursor, rows, self.node)

    def run_lane(self) -> int:
        """The priority lane: run the urgent events waiting behind the backlog now (S01)."""
        items = [i for i in self.urgent_pending() if is_urgent(i.event)]
        self.lane_passes += 1
        if not items:
            return 0
        started = time.perf_counter()
        done = self.engine.process_urgent(items, remember=False)
        self.rules_seconds += time.perf_counter() - started
        self.lane_events += len(done)
        self.processed += len(done)
        return len(done)

    def run_once(self) -> int:
        """The lane, then one batch; returns how many events both held (0 = nothing waiting)."""
        try:
            urgent = self.run_lane()
            items = self.pending()
            if self.engine.has_failed():
                self.engine.retry_failed()
            if not items:
                return urgent
            started = time.perf_counter()
            self.engine.process(items)
            self.rules_seconds += time.perf_counter() - started
        except DatabaseError:
            _close_if_unusable()
            raise
        self.processed += len(items)
        self.batches += 1
        return urgent + len(items)

    def run_until_empty(self) -> int:
        total = 0
        while count := self.run_once():
            total += count
        return total

    def stats(self) -> dict[str, Any]:
        cpu = time.process_time() - self._cpu_started
        return {
            "rules_processed": self.processed,
            "rules_batches": self.batches,
            "rules_seconds": round(self.rules_seconds, 3),
            "rules_cpu_seconds": round(cpu, 3),
            "rules_cpu_us_per_event": round(cpu / self.processed * 1e6, 1) if self.processed else None,
            "rules_lane_events": self.lane_events,
            "rules_lane_passes": self.lane_passes,
            "rule_failures": self.engine.rule_failures,
            "applier_failures": self.engine.applier_failures,
            "applier_retries_waiting": len(self.engine._failed),
            "gc_thresholds": list(gc.get_threshold()),
        }


DEQUEUE_BY_KEY = 32
"""PostgreSQL: up to this many ids are taken off the queue one primary key each (decision 0134)."""


def dequeue(node: str, ids: list[int]) -> None:
    """Take events off the rules queue: they are processed (decision 0132). One DELETE per 900 ids
    on SQLite. On PostgreSQL, a batch's ids with their range spelled out (decision 0134): the
    queue's statistics are always stale (a table that is emptied as fast as it fills, analysed
    when it was small), and with `event_id = ANY(array)` alone the planner read every entry of the
    node's index, dead ones included, for each batch: 13 ms a DELETE at 10,000 events a second, a
    quarter of the server's CPU. A few scattered ids (the priority lane's) are deleted by key."""
    from django.db import connection

    from pingantong.devices.models import UnprocessedEvent

    if not ids:
        return
    delete = f'DELETE FROM "{UnprocessedEvent._meta.db_table}" WHERE "gateway_node" = %s AND "event_id" '  # noqa: S608 - table name from model meta, values bound
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if len(ids) <= DEQUEUE_BY_KEY:
                cursor.executemany(delete + "= %s", [(node, i) for i in ids])
                return
            cursor.execute(
                delete + '>= %s AND "event_id" <= %s AND "event_id" = ANY(%s::bigint[])',
                [node, min(ids), max(ids), pgarray.int_array(ids)],
            )
            return
        for chunk, marks in _in_chunks(ids):
            cursor.execute(delete + f"IN ({marks})", [node, *chunk])


def _in_chunks(values: list[int]) -> Iterator[tuple[list[int], str]]:
    """`values` in chunks of 900 with their "%s, %s, …" placeholders: SQLite's older builds allow
    999 bound parameters in one statement."""
    for start in range(0, len(values), 900):
        chunk = values[start : start + 900]
        yield chunk, ", ".join(["%s"] * len(chunk))


def _urgent_text(alarms: Any) -> bool:
    """The alarms column as the database returns it (JSON text; a list from a driver that decodes)."""
    if isinstance(alarms, str):
        return any(f'"{a}"' in alarms for a in URGENT_ALARMS)
    return bool(alarms) and not URGENT_ALARMS.isdisjoint(alarms)


def _close_if_unusable() -> None:
    from django.db import connection

    with contextlib.suppress(Exception):
        if connection.connection is not None and not connection.is_usable():
            connection.close()


EVENT_COLUMNS = ("id", "device_id", "device_identity", "message", "device_time", "received_at", "payload")


def _column(meta: Any, name: str) -> str:
    return str(meta.get_field(name).column)


class _Sql:
    """The consumer's statements, built once from the models' metadata."""

    def __init__(self) -> None:
        from django.db import connection

        from pingantong.devices.models import Device, DeviceEventRecord, UnprocessedEvent

        table = DeviceEventRecord._meta.db_table
        meta = DeviceEventRecord._meta
        self.sqlite = connection.vendor == "sqlite"
        # SQLite: datetimes read as text (Django's column-type converter parses them with a
        # regex fallback and no zone; `fromisoformat` here is several times cheaper).
        # PostgreSQL: as seconds since the epoch (Django's timestamptz loader is Python code).
        as_datetime = 'CAST("{}" AS TEXT)' if self.sqlite else 'CAST(EXTRACT(EPOCH FROM "{}") AS float8)'
        cols = ", ".join(
            as_datetime.format(_column(meta, c))
            if c in ("device_time", "received_at")
            else f'"{_column(meta, c)}"'
            for c in EVENT_COLUMNS
        )
        node = _column(meta, "gateway_node")
        queue = UnprocessedEvent._meta.db_table
        self._select = f'SELECT {cols} FROM "{table}" '  # noqa: S608 - names from model meta, values bound
        # The queue in id order (its primary key), then the events by id: a range of ids when the
        # queued ids are about contiguous (the usual batch), else the ids themselves.
        self.queued = (
            f'SELECT "event_id" FROM "{queue}" '  # noqa: S608 - names from model meta, values bound
            'WHERE "gateway_node" = %s AND "event_id" > %s ORDER BY "event_id" LIMIT %s'
        )
        self.id_range = self._select + 'WHERE "id" >= %s AND "id" <= %s ORDER BY "id"'
        self.queued_among = f'SELECT "event_id" FROM "{queue}" WHERE "gateway_node" = %s AND "event_id" IN '  # noqa: S608 - names from model meta, values bound
        # `kind = 'alarm'` literally, so that the partial index on alarm rows is used; the node is
        # compared here, not in SQL, or SQLite prefers the node's index.
        self.alarm_rows = (
            f'SELECT "id", "alarms", "{node}" FROM "{table}" '  # noqa: S608 - names from model meta, values bound
            'WHERE "kind" = \'alarm\' AND "received_at" >= %s AND "id" > %s'
        )
        device = Device._meta
        dtype = device.get_field("device_type").related_model._meta  # type: ignore[union-attr]

        def col(model_meta: Any, name: str) -> str:
            return f'"{_column(model_meta, name)}"'

        self._devices = (
            f"SELECT d.{col(device, 'id')}, d.{col(device, 'identity')}, d.{col(device, 'client')}, "  # noqa: S608 - names from model meta, values bound
            f"d.{col(device, 'region')}, d.{col(device, 'device_type')}, t.{col(dtype, 'proves_person')}, "
            f"d.{col(device, 'tz_offset_minutes')} "
            f'FROM "{device.db_table}" d JOIN "{dtype.db_table}" t '
            f'ON t."{dtype.pk.column}" = d.{col(device, "device_type")} '
            f"WHERE d.{col(device, 'id')} IN "
        )

    def by_ids(self, count: int) -> str:
        return self._select + 'WHERE "id" IN (' + ", ".join(["%s"] * count) + ') ORDER BY "id"'

    def events(self, cursor: Any, ids: list[int]) -> list[tuple]:
        """The event rows of `ids` (sorted), oldest first."""
        if ids[-1] - ids[0] < 2 * len(ids):
            wanted = set(ids)
            cursor.execute(self.id_range, [ids[0], ids[-1]])
            return [row for row in cursor.fetchall() if row[0] in wanted]
        rows: list[tuple] = []
        for chunk, _marks in _in_chunks(ids):
            cursor.execute(self.by_ids(len(chunk)), chunk)
            rows.extend(cursor.fetchall())
        return rows

    def still_queued(self, cursor: Any, node: str, ids: list[int]) -> set[int]:
        out: set[int] = set()
        for chunk, marks in _in_chunks(ids):
            cursor.execute(self.queued_among + f"({marks})", [node, *chunk])
            out.update(row[0] for row in cursor.fetchall())
        return out

    def devices(self, cursor: Any, pks: Iterable[int]) -> dict[int, DeviceRef]:
        wanted = sorted(pks)
        out: dict[int, DeviceRef] = {}
        statements: list[tuple[str, list[Any]]]
        if self.sqlite:
            statements = [(self._devices + f"({marks})", chunk) for chunk, marks in _in_chunks(wanted)]
        else:  # one array parameter
            statements = (
                [(self._devices.removesuffix(" IN ") + " = ANY(%s::bigint[])", [pgarray.int_array(wanted)])]
                if wanted
                else []
            )
        for sql, params in statements:
            cursor.execute(sql, params)
            for pk, identity, client_id, region_id, type_id, proves, tz in cursor.fetchall():
                out[pk] = DeviceRef(pk, identity, client_id, region_id, type_id, bool(proves), tz)
        return out

    def stored_events(self, cursor: Any, rows: list[tuple], node: str) -> list[StoredEvent]:
        devices = self.devices(cursor, {row[1] for row in rows if row[1] is not None})
        when = _sqlite_datetime if self.sqlite else _from_epoch
        loads = fastjson.loads
        out: list[StoredEvent] = []
        for event_id, device_pk, identity, message, device_time, received_at, payload in rows:
            data = loads(payload) if isinstance(payload, str | bytes) else payload
            pos = data.get("position")
            event = DeviceEvent(
                protocol=data["protocol"],
                device_id=identity,
                message=message,
                kind=data["kind"],
                device_time=when(device_time) if device_time is not None else None,
                position=Position(**pos) if pos else None,
                alarms=data.get("alarms") or [],
                battery_pct=data.get("battery_pct"),
                signal_pct=data.get("signal_pct"),
                steps=data.get("steps"),
                vitals=data.get("vitals") or {},
                sensor=data.get("sensor"),
                archived=bool(data.get("archived")),
                serial=data.get("serial"),
                extra=data.get("extra") or {},
            )
            out.append(
                StoredEvent(
                    event,
                    event_id,
                    when(received_at),
                    devices.get(device_pk) if device_pk is not None else None,
                    node,
                )
            )
        return out


def _sqlite_datetime(value: Any) -> datetime:
    """SQLite keeps Django's datetimes as naive UTC text ("2026-11-29 03:00:00.123456")."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _from_epoch(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(value, UTC)


# --- the child process ---------------------------------------------------------------------------


def child_settings() -> tuple[dict[str, Any], str, bool]:
    """What a gateway's child process (rules, ingest writer) needs to work as its parent does:
    the parent's database (a scratch one in the benchmark), settings module and DEBUG."""
    from django.conf import settings
    from django.db import connection

    database = dict(connection.settings_dict)
    database.pop("TEST", None)
    return database, settings.SETTINGS_MODULE, bool(settings.DEBUG)


def set_up_child(database: dict[str, Any], settings_module: str, debug: bool) -> None:
    """Django in a gateway's child process (multiprocessing, spawn), from `child_settings()`."""
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    import django

    django.setup()
    from django.conf import settings
    from django.db import connections

    from pingantong.gateway.gctune import set_switch_interval, tune_gc_for_gateway
    from pingantong.gateway.ingest.dbconn import (
        leave_checkpoints_to_the_parent_gateway,
        price_index_lookups_for_solid_state,
    )

    tune_gc_for_gateway()  # Django's heap frozen, young collections rare (decision 0120)
    # On PostgreSQL the writer process stores an SOS from a thread of its own beside the batch
    # thread (decision 0127): at Python's 5 ms switch interval, each of the SOS's database calls
    # could wait that long for the batch thread to let go of the GIL (decision 0131).
    set_switch_interval()

    # The parent's DEBUG (the settings module alone would say DEBUG=True for `local`, and Django
    # would then log every query of this process with its quoted parameters: 5-10 % of its CPU).
    settings.DEBUG = debug
    connections.databases["default"].update(database)
    connections.close_all()
    _never_log_queries(connections["default"])
    leave_checkpoints_to_the_parent_gateway()  # SQLite: the gateway's checkpointer (decision 0120)
    price_index_lookups_for_solid_state()  # PostgreSQL: look the batch's devices up by key (decision 0133)


def _serve(
    node: str, database: dict[str, Any], settings_module: str, wake: Any, control: Any, debug: bool = False
) -> None:
    """Entry point of the rules process (multiprocessing, spawn)."""
    from pingantong.gateway.priority import lower_this_process

    set_up_child(database, settings_module, debug)
    lower_this_process()  # the whole process, below an SOS's path (decision 0137)
    from django.db import connections

    consumer = RulesConsumer(node)
    wake_fd = wake.fileno()
    try:
        while True:
            consumer.run_until_empty()
            while control.poll():
                message = control.recv()
                consumer.run_until_empty()
                if message == "stop":
                    control.send(("stopped", consumer.stats()))
                    return
                control.send(("drained", consumer.stats()))
            timeout = RETRY_POLL_SECONDS if consumer.engine.has_failed() else POLL_SECONDS
            ready, _w, _x = select.select([wake_fd, control.fileno()], [], [], timeout)
            if wake_fd in ready and not os.read(wake_fd, 65536):
                return  # the gateway is gone
    except (EOFError, OSError):
        return  # the gateway is gone
    finally:
        connections.close_all()


RETRY_POLL_SECONDS = 0.5


def _never_log_queries(connection: Any) -> None:
    """The rules process keeps no query log whatever DEBUG says: nobody reads it there, and under
    DEBUG Django formats every query's parameters into it (`CursorDebugWrapper`)."""
    base = type(connection)
    connection.__class__ = type(
        f"Unlogged{base.__name__}",
        (base,),
        {"queries_logged": property(lambda self: self.force_debug_cursor)},
    )


class RulesProcess:
    """The parent's handle on the rules process: start, wake after a commit, drain, stop, restart.

    The wake-up is one byte written without blocking into a pipe (no lock shared with the child:
    a child killed while holding a multiprocessing lock would otherwise block the ingest writer)."""

    def __init__(self, node: str) -> None:
        self.node = node
        self._ctx = multiprocessing.get_context("spawn")
        self._proc: Any = None
        self._control: Any = None
        self._wake_fd: int | None = None
        self._wake_conn: Any = None
        self._lock = threading.Lock()
        self.restarts = 0
        self.last_stats: dict[str, Any] = {}

    def start(self) -> None:
        self._close_pipes()
        parent, child = self._ctx.Pipe()
        wake_read, wake_write = self._ctx.Pipe(duplex=False)
        database, settings_module, debug = child_settings()
        self._proc = self._ctx.Process(
            target=_serve,
            args=(self.node, database, settings_module, wake_read, child, debug),
            name=f"rules-{self.node}",
            daemon=True,
        )
        self._proc.start()
        child.close()
        wake_read.close()
        self._control = parent
        self._wake_conn = wake_write
        self._wake_fd = wake_write.fileno()
        os.set_blocking(self._wake_fd, False)

    def _close_pipes(self) -> None:
        for conn in (self._control, self._wake_conn):
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()
        self._control = self._wake_conn = self._wake_fd = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def alive(self) -> bool:
        return self._proc is not None and self._proc.is_alive()

    def ensure_running(self) -> bool:
        """Restart the process if it died; returns True if it had to."""
        with self._lock:
            if self.alive():
                return False
            if self._proc is not None:
                log.error("rules process for %s exited (%s); restarting it", self.node, self._proc.exitcode)
                self.restarts += 1
            self.start()
            return True

    def wake(self) -> None:
        """After a commit (from the writer thread): never blocks; a full pipe is already a wake-up."""
        fd = self._wake_fd
        if fd is not None:
            with contextlib.suppress(OSError):
                os.write(fd, b"w")

    def _ask(self, message: str, timeout: float) -> dict[str, Any]:
        with self._lock:
            if not self.alive():
                return self.last_stats
            try:
                self._control.send(message)
            except OSError:
                return self.last_stats
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self._control.poll(0.2):
                    _kind, stats = self._control.recv()
                    self.last_stats = stats
                    return stats
                if not self._proc.is_alive():
                    break
            return self.last_stats

    def drain(self, timeout: float = 600.0) -> dict[str, Any]:
        """Block until every event committed before the call has been through the rules."""
        self.ensure_running()
        return self._ask("drain", timeout)

    def stop(self, timeout: float = 60.0) -> None:
        if self._proc is None:
            return
        self._ask("stop", timeout)
        self._proc.join(5)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(5)
        self._close_pipes()
        self._proc = None

    def kill(self) -> None:
        """Kill the process without warning (tests: a crash between commit and rules)."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.join(5)
