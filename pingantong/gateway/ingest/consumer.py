"""The rules stage outside the gateway's process: a consumer of committed events (decision 0094).

ARCHITECTURE.md §3: after commit, each stored event goes to the rules in order per device. In the
default mode the gateway's own rules thread does that (`Ingestor`, `rules="thread"`). With
`rules="process"` (setting or environment `PINGANTONG_GATEWAY_RULES=process`) the gateway only
stores and acknowledges; a child process started by its ingestor reads the node's committed,
unprocessed events **in id order** (one writer per node allocates ids in commit order, so this is
commit order, hence each device's order), runs them through the same `RulesEngine`, and marks them
`processed_at`. The gateway wakes it after every commit; it also looks every second by itself.
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
import logging
import multiprocessing
import os
import select
import threading
import time
from collections.abc import Iterable
from typing import Any

from django.db import close_old_connections

from pingantong.gateway.pipeline import DeviceRef, RulesEngine, StoredEvent

log = logging.getLogger("pingantong.gateway.rules")

BATCH = 2000
SQLITE_BATCH = 250
POLL_SECONDS = 1.0


class RulesConsumer:
    """Runs one node's committed, unprocessed events through the rules, in id order."""

    def __init__(self, node: str, engine: RulesEngine | None = None, batch: int | None = None) -> None:
        from django.db import connection

        self.node = node
        self.engine = engine if engine is not None else RulesEngine()
        # SQLite: the ingest writer waits while a batch's decisions are applied (one write lock),
        # so keep batches small there; an SOS must not wait long for its turn.
        self.batch = batch or (SQLITE_BATCH if connection.vendor == "sqlite" else BATCH)
        self.processed = 0
        self.batches = 0
        self.rules_seconds = 0.0

    def pending(self) -> list[StoredEvent]:
        """The next batch: this node's events not yet processed, oldest id first."""
        from pingantong.devices.models import DeviceEventRecord
        from pingantong.gateway.ingest import event_from_values

        rows = list(
            DeviceEventRecord.objects.filter(gateway_node=self.node, processed_at__isnull=True)
            .order_by("pk")
            .values_list(*EVENT_FIELDS)[: self.batch]
        )
        devices = _device_refs({row[1] for row in rows if row[1] is not None})
        return [
            StoredEvent(
                event_from_values(dict(zip(EVENT_FIELDS, row, strict=True))),
                row[0],
                row[8],
                devices.get(row[1]) if row[1] is not None else None,
                self.node,
            )
            for row in rows
        ]

    def run_once(self) -> int:
        """Process one batch; returns how many events it held (0 = nothing was waiting)."""
        close_old_connections()
        items = self.pending()
        if not items:
            return 0
        started = time.perf_counter()
        self.engine.process(items)
        self.rules_seconds += time.perf_counter() - started
        self.processed += len(items)
        self.batches += 1
        return len(items)

    def run_until_empty(self) -> int:
        total = 0
        while count := self.run_once():
            total += count
        return total

    def stats(self) -> dict[str, Any]:
        return {
            "rules_processed": self.processed,
            "rules_batches": self.batches,
            "rules_seconds": round(self.rules_seconds, 3),
            "rule_failures": self.engine.rule_failures,
            "applier_failures": self.engine.applier_failures,
        }


EVENT_FIELDS = (
    "pk",
    "device_id",
    "protocol",
    "device_identity",
    "message",
    "kind",
    "alarms",
    "device_time",
    "received_at",
    "archived",
    "serial",
    "payload",
)


def _device_refs(pks: Iterable[int]) -> dict[int, DeviceRef]:
    from pingantong.devices.models import Device

    wanted = list(pks)
    out: dict[int, DeviceRef] = {}
    for start in range(0, len(wanted), 900):
        for row in Device.objects.filter(pk__in=wanted[start : start + 900]).values_list(*DeviceRef.FIELDS):
            out[row[0]] = DeviceRef(*row)
    return out


# --- the child process ---------------------------------------------------------------------------


def _serve(node: str, database: dict[str, Any], settings_module: str, wake: Any, control: Any) -> None:
    """Entry point of the rules process (multiprocessing, spawn)."""
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    import django

    django.setup()
    from django.db import connections

    connections.databases["default"].update(database)  # the parent's database (a scratch one in bench)
    connections.close_all()
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
            ready, _w, _x = select.select([wake_fd, control.fileno()], [], [], POLL_SECONDS)
            if wake_fd in ready and not os.read(wake_fd, 65536):
                return  # the gateway is gone
    except (EOFError, OSError):
        return  # the gateway is gone
    finally:
        connections.close_all()


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
        from django.conf import settings
        from django.db import connection

        self._close_pipes()
        parent, child = self._ctx.Pipe()
        wake_read, wake_write = self._ctx.Pipe(duplex=False)
        database = dict(connection.settings_dict)
        database.pop("TEST", None)
        self._proc = self._ctx.Process(
            target=_serve,
            args=(self.node, database, settings.SETTINGS_MODULE, wake_read, child),
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
