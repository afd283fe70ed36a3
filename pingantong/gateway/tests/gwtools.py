"""Helpers for the gateway's socket tests: run a Gateway on ephemeral ports in a background loop
thread, so that tests (sync, with Django's DB access) can talk to it over real TCP."""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from pingantong.gateway.listeners import Gateway


class LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Any, timeout: float = 20) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@contextmanager
def running_gateway(**kwargs: Any) -> Iterator[tuple[Gateway, dict[str, int], LoopThread]]:
    kwargs.setdefault("host", "127.0.0.1")
    kwargs.setdefault("node", "test-node")
    ports = kwargs.pop("ports", {"watch": 0, "jt808": 0})
    lt = LoopThread()
    gateway = lt.run(_make(ports, kwargs))
    try:
        bound = lt.run(gateway.start())
        yield gateway, bound, lt
    finally:
        lt.run(gateway.stop())
        lt.close()


async def _make(ports: dict, kwargs: dict) -> Gateway:
    return Gateway(ports, **kwargs)


def jt808_position(phone: bytes, serial: int, *, sos: bool = False) -> bytes:
    """A JT/T 808 0x0200 position report (with the SOS bit if asked), dated `30 - serial` seconds
    ago in the terminal's +08:00 clock."""
    from pingantong.gateway.protocols.jt808.encoder import build_message

    body = struct.pack(">IIIIHHH", 0x1 if sos else 0, 0x2, 26_263_406, 117_639_612, 120, 100, 90)
    when = datetime.now(UTC) + timedelta(hours=8) - timedelta(seconds=30 - serial)
    body += bytes.fromhex(when.strftime("%y%m%d%H%M%S"))
    return build_message(0x0200, phone, serial, body)


class Terminal:
    """A simulated terminal: a blocking socket with helpers to read replies."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_until(self, end: bytes, timeout: float = 10) -> bytes:
        self.sock.settimeout(timeout)
        while end not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed by the gateway")
            self.buffer += chunk
        i = self.buffer.index(end) + len(end)
        out, self.buffer = self.buffer[:i], self.buffer[i:]
        return out

    def read_frame_7e(self, timeout: float = 10) -> bytes:
        self.sock.settimeout(timeout)
        while self.buffer.count(b"\x7e") < 2:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed by the gateway")
            self.buffer += chunk
        start = self.buffer.index(b"\x7e")
        end = self.buffer.index(b"\x7e", start + 1) + 1
        out, self.buffer = self.buffer[start:end], self.buffer[end:]
        return out

    def expect_silence(self, seconds: float = 0.5) -> bytes:
        self.sock.settimeout(seconds)
        try:
            chunk = self.sock.recv(4096)
        except TimeoutError:
            return b""
        return chunk if chunk else b"<closed>"

    def close(self) -> None:
        self.sock.close()


def ensure_reference_data() -> None:
    """Transactional tests flush the tables that migrations seeded: put back what the gateway needs
    (the district that unbound devices sit in, and the device types)."""
    import importlib

    from django.apps import apps

    from pingantong.devices.models import default_unbound_region_code
    from pingantong.regions.models import Region

    code = default_unbound_region_code()
    Region.objects.get_or_create(code=code, defaults={"name": "三元区", "level": 3})
    seed = importlib.import_module("pingantong.devices.migrations.0002_seed_device_types")
    seed.seed(apps, None)


def journal_events(ingestor: Any) -> list[Any]:
    """The events held by the ingestor's urgent journal (decision 0130), read on a connection of
    the caller's own."""
    from pingantong.gateway.ingest.journal import UrgentJournal

    if ingestor.journal is None or not ingestor.journal.path.exists():
        return []
    journal = UrgentJournal(ingestor.journal.path)
    try:
        return [e for _, frames in journal.entries() for f in frames or () for e in f.events]
    finally:
        journal.close()


def durable_before_ack(ingestor: Any, stored: Any, match: Any) -> bool:
    """An urgent frame just acknowledged is in the urgent journal (an event for which `match(event)`
    is true) or already in the database (the queryset `stored` finds it)."""
    return any(match(e) for e in journal_events(ingestor)) or stored.exists()


def queued(node: str | None = None) -> list[int]:
    """Ids of the events still on the rules queue (decision 0132), of one node or of all."""
    from pingantong.devices.models import UnprocessedEvent

    rows = UnprocessedEvent.objects.all()
    if node is not None:
        rows = rows.filter(gateway_node=node)
    return sorted(rows.values_list("event_id", flat=True))


def is_processed(event_id: int) -> bool:
    from pingantong.devices.models import UnprocessedEvent

    return not UnprocessedEvent.objects.filter(event_id=event_id).exists()


def requeue(events: Any) -> int:
    """Put stored events back on the rules queue, as if never processed."""
    from pingantong.devices.models import UnprocessedEvent

    rows = [
        UnprocessedEvent(gateway_node=node, event_id=pk)
        for pk, node in events.values_list("pk", "gateway_node")
    ]
    UnprocessedEvent.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
