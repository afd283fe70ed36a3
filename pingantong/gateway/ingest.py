"""Durable ingest: frames and their events are committed before the device is acknowledged.

Listeners (TCP, MQTT, webhook) `await ingestor.submit(frames)`; the call returns only after the
rows are committed, and raises `StorageError` when they were not, in which case the caller sends
no reply (the device resends; ARCHITECTURE.md §2). Submissions from every connection are group
committed: while one batch is being written by the single writer thread, new frames queue up and
go into the next batch (one `transaction.atomic` each, at most `max_batch` frames), so the cost of
a commit (an fsync) is shared by hundreds of messages at load and costs no wait at idle.

One writer thread keeps SQLite to one writer (it allows no more) and keeps batches in commit
order; committed batches are handed, in that order, to the rules stage (pipeline thread), which
is what keeps each device's events in order. Nothing is deduplicated here: every SOS frame is a
row, even a resend (the alarm rules decide what is the same call for help).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import OperationalError, close_old_connections, connection, transaction

from pingantong.gateway.events import DeviceEvent, Position
from pingantong.gateway.pipeline import RulesEngine, StoredEvent

log = logging.getLogger("pingantong.gateway.ingest")

LOCK_RETRIES = 3


class StorageError(RuntimeError):
    """The batch holding these frames was not committed: do not acknowledge them."""


@dataclass(slots=True)
class FrameIn:
    """One frame as received, with what the codec made of it."""

    protocol: str
    raw: bytes
    events: list[DeviceEvent]
    peer: str = ""
    identity: str | None = None
    error: str | None = None
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(slots=True)
class Stored:
    """What was committed for one frame."""

    raw_frame_id: int
    event_ids: list[int]
    device_pk: int | None


StoreFn = Callable[[Sequence[FrameIn], str], tuple[list[Stored], list[StoredEvent]]]


def _identity(frame: FrameIn) -> str:
    if frame.events:
        return frame.events[0].device_id
    return frame.identity or ""


def store_batch(frames: Sequence[FrameIn], node: str) -> tuple[list[Stored], list[StoredEvent]]:
    """Write a batch of frames in one transaction; returns per-frame ids and the events for rules."""
    from pingantong.devices.models import (
        Device,
        DeviceEventRecord,
        PositionRecord,
        RawFrame,
        SensorRecord,
        UnknownDeviceInbox,
        VitalsRecord,
    )

    with transaction.atomic():
        wanted: dict[str, set[str]] = {}
        for f in frames:
            for ident in {_identity(f), *(e.device_id for e in f.events)} - {""}:
                wanted.setdefault(f.protocol, set()).add(ident)
        devices: dict[tuple[str, str], Any] = {}
        for protocol, idents in wanted.items():
            for d in Device.objects.filter(protocol=protocol, identity__in=idents).select_related(
                "device_type"
            ):
                devices[(protocol, d.identity)] = d

        raws = [
            RawFrame(
                protocol=f.protocol,
                device=devices.get((f.protocol, _identity(f))),
                device_identity=_identity(f)[:64],
                peer=f.peer[:64],
                received_at=f.received_at,
                data=f.raw,
                error=(f.error or "")[:255],
                gateway_node=node,
            )
            for f in frames
        ]
        RawFrame.objects.bulk_create(raws)

        records: list[DeviceEventRecord] = []
        owners: list[tuple[int, DeviceEvent, Any]] = []
        for i, f in enumerate(frames):
            for e in f.events:
                device = devices.get((f.protocol, e.device_id))
                records.append(
                    DeviceEventRecord(
                        device=device,
                        protocol=e.protocol,
                        device_identity=e.device_id[:64],
                        message=e.message[:32],
                        kind=e.kind,
                        alarms=list(e.alarms),
                        device_time=e.device_time,
                        received_at=f.received_at,
                        archived=e.archived,
                        serial=e.serial,
                        payload=e.to_json(include_extra=True),
                        raw_frame=raws[i],
                        gateway_node=node,
                    )
                )
                owners.append((i, e, device))
        DeviceEventRecord.objects.bulk_create(records)

        positions, vitals, sensors = [], [], []
        for rec, (_i, e, device) in zip(records, owners, strict=True):
            if device is None:
                continue
            at = e.device_time or rec.received_at
            common = {"device": device, "recorded_at": at, "received_at": rec.received_at, "event": rec}
            p = e.position
            if p is not None and not (p.latitude == 0 and p.longitude == 0):
                positions.append(
                    PositionRecord(
                        latitude=p.latitude,
                        longitude=p.longitude,
                        valid=p.valid,
                        speed_kmh=p.speed_kmh,
                        course_deg=p.course_deg,
                        altitude_m=p.altitude_m,
                        satellites=p.satellites,
                        archived=e.archived,
                        **common,
                    )
                )
            if e.vitals:
                vitals.append(VitalsRecord(**common, **e.vitals))
            if e.sensor is not None:
                sensors.append(SensorRecord(state=e.sensor, alarms=list(e.alarms), **common))
        PositionRecord.objects.bulk_create(positions)
        VitalsRecord.objects.bulk_create(vitals)
        SensorRecord.objects.bulk_create(sensors)
        _update_inbox(UnknownDeviceInbox, frames, raws, devices)

    stored = []
    k = 0
    for i, f in enumerate(frames):
        n = len(f.events)
        ids = [r.pk for r in records[k : k + n]]
        k += n
        device = devices.get((f.protocol, _identity(f)))
        stored.append(Stored(raws[i].pk, ids, device.pk if device is not None else None))
    handed = [
        StoredEvent(e, rec.pk, rec.received_at, device, node)
        for rec, (_i, e, device) in zip(records, owners, strict=True)
    ]
    return stored, handed


def _update_inbox(model: Any, frames: Sequence[FrameIn], raws: list[Any], devices: dict) -> None:
    """Count frames of terminals not in the registry, for installers to bind (one row each)."""
    seen: dict[tuple[str, str], tuple[int, FrameIn, Any, list[str]]] = {}
    for f, raw in zip(frames, raws, strict=True):
        ident = _identity(f)
        if not ident or (f.protocol, ident) in devices:
            continue
        count, _f, _r, alarms = seen.get((f.protocol, ident), (0, f, raw, []))
        new_alarms = sorted({*alarms, *(a for e in f.events for a in e.alarms)})
        seen[(f.protocol, ident)] = (count + 1, f, raw, new_alarms)
    for (protocol, ident), (count, f, raw, alarms) in seen.items():
        row = model.objects.filter(protocol=protocol, identity=ident[:64]).first()
        if row is None:
            model.objects.create(
                protocol=protocol,
                identity=ident[:64],
                first_seen_at=f.received_at,
                last_seen_at=f.received_at,
                frame_count=count,
                last_peer=f.peer[:64],
                last_frame=raw,
                last_alarms=alarms,
            )
        else:
            row.last_seen_at, row.frame_count = f.received_at, row.frame_count + count
            row.last_peer, row.last_frame = f.peer[:64], raw
            if alarms:
                row.last_alarms = alarms
            row.save(update_fields=["last_seen_at", "frame_count", "last_peer", "last_frame", "last_alarms"])


def event_from_record(record: Any) -> DeviceEvent:
    """Rebuild the DeviceEvent from its stored JSON (recovery after a crash)."""
    data = dict(record.payload)
    pos = data.get("position")
    return DeviceEvent(
        protocol=record.protocol,
        device_id=record.device_identity,
        message=record.message,
        kind=record.kind,
        device_time=record.device_time,
        position=Position(**pos) if pos else None,
        alarms=list(record.alarms),
        battery_pct=data.get("battery_pct"),
        signal_pct=data.get("signal_pct"),
        steps=data.get("steps"),
        vitals=data.get("vitals") or {},
        sensor=data.get("sensor"),
        archived=record.archived,
        serial=record.serial,
        extra=data.get("extra") or {},
    )


@dataclass
class IngestMetrics:
    batches: int = 0
    frames_stored: int = 0
    events_stored: int = 0
    storage_failures: int = 0
    largest_batch: int = 0


INGESTORS: dict[str, Ingestor] = {}
"""The running ingestors of this process by node (for the metrics endpoint)."""


class Ingestor:
    """The group-commit batcher shared by every listener of one gateway process."""

    def __init__(
        self,
        *,
        node: str,
        max_batch: int = 1000,
        linger: float = 0.0,
        store: StoreFn = store_batch,
        engine: RulesEngine | None = None,
    ) -> None:
        self.node = node
        self.max_batch = max_batch
        self.linger = linger
        self.store = store
        self.engine = engine if engine is not None else RulesEngine()
        self.metrics = IngestMetrics()
        self._pending: deque[tuple[Sequence[FrameIn], asyncio.Future]] = deque()
        self._wake = asyncio.Event()
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="ingest-writer")
        # SQLite has one writer at a time: the rules then run on the writer thread, between
        # batches, instead of contending for the lock from a second thread.
        self._rules = (
            self._writer
            if connection.vendor == "sqlite"
            else ThreadPoolExecutor(1, thread_name_prefix="rules")
        )
        self._task: asyncio.Task | None = None
        self._closing = False

    @property
    def db_executor(self) -> ThreadPoolExecutor:
        """The writer thread, for other gateway DB work on SQLite (one writer, no lock waits)."""
        return self._writer

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="ingest")
            INGESTORS[self.node] = self

    async def stop(self) -> None:
        self._closing = True
        INGESTORS.pop(self.node, None)
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._writer, _close_connection)
        if self._rules is not self._writer:
            await loop.run_in_executor(self._rules, _close_connection)
            self._rules.shutdown(wait=True)
        self._writer.shutdown(wait=True)

    async def submit(self, frames: Sequence[FrameIn]) -> list[Stored]:
        """Store `frames` (in one batch, in order); returns after commit or raises StorageError."""
        if self._closing:
            raise StorageError("ingest is shutting down")
        if not frames:
            return []
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._pending.append((frames, future))
        self._wake.set()
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self.linger and len(self._pending) < self.max_batch:
                await asyncio.sleep(self.linger)
            while self._pending:
                batch, count = [], 0
                while self._pending and (count == 0 or count + len(self._pending[0][0]) <= self.max_batch):
                    item = self._pending.popleft()
                    batch.append(item)
                    count += len(item[0])
                frames = [f for group, _ in batch for f in group]
                try:
                    stored = await loop.run_in_executor(self._writer, self._write, frames)
                except Exception as exc:
                    self.metrics.storage_failures += 1
                    log.error(
                        "storing a batch of %d frames failed: %r; none is acknowledged", len(frames), exc
                    )
                    for _, fut in batch:
                        if not fut.done():
                            fut.set_exception(StorageError(str(exc)))
                    continue
                self.metrics.batches += 1
                self.metrics.frames_stored += len(frames)
                self.metrics.largest_batch = max(self.metrics.largest_batch, len(frames))
                i = 0
                for group, fut in batch:
                    if not fut.done():
                        fut.set_result(stored[i : i + len(group)])
                    i += len(group)
            if self._closing and not self._pending:
                return

    def _write(self, frames: list[FrameIn]) -> list[Stored]:
        close_old_connections()
        for attempt in range(LOCK_RETRIES + 1):
            try:
                stored, handed = self.store(frames, self.node)
                break
            except OperationalError as exc:
                # Another process holding SQLite's write lock past busy_timeout: try again briefly.
                if attempt == LOCK_RETRIES or "locked" not in str(exc):
                    raise
                time.sleep(0.02 * (attempt + 1))
        self.metrics.events_stored += len(handed)
        if handed:
            # Submitted from the writer thread right after commit: the rules see batches in commit order.
            self._rules.submit(self._process, handed)
        return stored

    def _process(self, handed: list[StoredEvent]) -> None:
        try:
            self.engine.process(handed)
        except Exception:
            log.exception("rules stage failed for %d events; they stay unprocessed for recovery", len(handed))

    async def drain_rules(self) -> None:
        """Wait until every handed-over batch has been through the rules (tests, shutdown)."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._writer, lambda: None)
        await loop.run_in_executor(self._rules, lambda: None)


def _close_connection() -> None:
    """Close this thread's database connection (the proxy resolves per thread when called here)."""
    connection.close()
