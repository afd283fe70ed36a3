"""The TCP listener of one terminal protocol: one `Session` per connection.

A session reads, lets the protocol codec cut and decode frames, has the frames committed by the
ingestor and only then writes the codec's replies, in order. If storing fails the connection is
closed without a reply, so the terminal resends to us or another node (no unstored message is
ever acknowledged). The codec is created once the terminal's identity is known, with the clock
zone from the registry; until then bytes are held (bounded) in the session.

Limits: idle timeout, a cap on bytes buffered waiting for the rest of a frame (the codec's maximum
frame size also applies), a maximum number of connections per listener. Nothing a terminal sends
can raise out of a session: codecs never raise, and anything unexpected closes that one connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pingantong.gateway.ingest import FrameIn, Ingestor, StorageError
from pingantong.gateway.listeners.directory import DeviceDirectory, DeviceInfo
from pingantong.gateway.listeners.metrics import REGISTRY, ListenerMetrics
from pingantong.gateway.protocols import get_codec
from pingantong.gateway.protocols.base import DEFAULT_TZ_OFFSET_MINUTES, Codec, DecodedFrame

log = logging.getLogger("pingantong.gateway.listener")


@dataclass
class ListenerLimits:
    idle_timeout: float = 1800.0
    """Seconds without a byte before the connection is closed (Traccar's default is 1800 s)."""
    max_connections: int = 20000
    read_size: int = 4096
    max_buffered: int = 64 * 1024
    """Bytes a connection may hold waiting for the rest of a frame (or for its identity)."""
    max_unidentified_frames: int = 16


class Session:
    """One connection from one terminal."""

    __slots__ = (
        "_held",
        "_probe",
        "_probe_frames",
        "codec",
        "device",
        "identity",
        "last_active",
        "listener",
        "peer",
        "pending_commands",
        "reader",
        "writer",
    )

    def __init__(
        self, listener: TcpListener, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.listener = listener
        self.reader = reader
        self.writer = writer
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer or "")
        self.codec: Codec | None = None
        self.identity: str | None = None
        self.device: DeviceInfo | None = None
        self.pending_commands: dict[Any, Any] = {}
        self._probe: Codec | None = None
        self._held = bytearray()
        self._probe_frames = 0
        self.last_active = asyncio.get_running_loop().time()

    async def run(self) -> None:
        limits = self.listener.limits
        metrics = self.listener.metrics
        loop = asyncio.get_running_loop()
        while True:
            # No timer per read: the listener's sweeper closes sessions idle past the timeout
            # (one timer for all connections instead of one per read, cheaper at 10,000 sessions).
            data = await self.reader.read(limits.read_size)
            if not data:
                return
            self.last_active = loop.time()
            metrics.bytes_in += len(data)
            frames = await self._frames(data)
            if frames is None:
                return
            if frames and not await self._handle(frames):
                return
            buffered = self.codec.buffered if self.codec is not None else len(self._held)
            if buffered > limits.max_buffered:
                metrics.oversize_closes += 1
                log.info("closing %s: %d bytes buffered without a complete frame", self.peer, buffered)
                return

    async def _frames(self, data: bytes) -> list[DecodedFrame] | None:
        """Decode `data`; before the identity is known, probe for it and build the real codec."""
        if self.codec is not None:
            return self.codec.feed(data)
        self._held += data
        if self._probe is None:
            self._probe = get_codec(self.listener.protocol)
        probed = self._probe.feed(data)
        self._probe_frames += len(probed)
        identity = self._probe.device_id or next((e.device_id for f in probed for e in f.events), None)
        if identity is None:
            if self._probe_frames > self.listener.limits.max_unidentified_frames:
                return None
            if not probed:
                return []
            # Frames that carry no identity (garbage): answered and counted, nothing to store yet.
            self._held.clear()
            self._probe = None
            return probed
        self.identity = identity
        self.device = await self.listener.directory.connected(self.listener.protocol, identity)
        tz = self.device.tz_offset_minutes if self.device is not None else self.listener.default_tz
        self.codec = get_codec(self.listener.protocol, tz_offset_minutes=tz)
        held, self._held, self._probe = bytes(self._held), bytearray(), None
        frames = self.codec.feed(held)
        if self.device is not None:
            self.listener.sessions[self.device.pk] = self
            for hook in self.listener.identified_hooks:
                hook(self)
        return frames

    async def _handle(self, frames: list[DecodedFrame]) -> bool:
        metrics = self.listener.metrics
        incoming = []
        for f in frames:
            metrics.frames += 1
            if f.error:
                metrics.malformed += 1
                log.info("malformed %s frame from %s: %s", self.listener.protocol, self.peer, f.error)
            metrics.warnings += len(f.warnings)
            metrics.events += len(f.events)
            incoming.append(
                FrameIn(
                    protocol=self.listener.protocol,
                    raw=f.raw,
                    events=f.events,
                    peer=self.peer,
                    identity=self.identity,
                    error=f.error,
                )
            )
        if self.device is None and self.identity is not None:
            metrics.unknown_device_frames += len(frames)
        try:
            await self.listener.ingestor.submit(incoming)
        except StorageError:
            metrics.unacked_storage_failure += len(frames)
            return False
        metrics.stored += len(frames)
        replies = [f.reply for f in frames if f.reply]
        for f in frames:
            self.listener.on_frame(self, f)
        if replies:
            metrics.acked += len(replies)
            self.writer.write(b"".join(replies))
            await self.writer.drain()
        return True

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()


class TcpListener:
    """An asyncio TCP server for one protocol."""

    def __init__(
        self,
        protocol: str,
        ingestor: Ingestor,
        directory: DeviceDirectory,
        *,
        host: str = "0.0.0.0",
        port: int,
        limits: ListenerLimits | None = None,
        default_tz: int = DEFAULT_TZ_OFFSET_MINUTES,
        on_frame: Callable[[Session, DecodedFrame], None] | None = None,
    ) -> None:
        self.protocol = protocol
        self.ingestor = ingestor
        self.directory = directory
        self.host = host
        self.port = port
        self.limits = limits or ListenerLimits()
        self.default_tz = default_tz
        self.metrics = ListenerMetrics(protocol=protocol)
        REGISTRY[protocol] = self.metrics
        self.sessions: dict[int, Session] = {}
        self._all: set[Session] = set()
        self._sweeper: asyncio.Task | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()
        self._frame_hooks: list[Callable[[Session, DecodedFrame], None]] = [on_frame] if on_frame else []
        self.identified_hooks: list[Callable[[Session], None]] = []
        """Called when a registered device's session is identified (downlinks deliver at once)."""

    def add_frame_hook(self, hook: Callable[[Session, DecodedFrame], None]) -> None:
        self._frame_hooks.append(hook)

    def on_frame(self, session: Session, frame: DecodedFrame) -> None:
        for hook in self._frame_hooks:
            try:
                hook(session, frame)
            except Exception:
                log.exception("frame hook failed")

    async def start(self) -> int:
        self._server = await asyncio.start_server(
            self._accept, self.host, self.port, backlog=4096, limit=self.limits.read_size * 2
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._sweeper = asyncio.create_task(self._sweep_idle(), name=f"{self.protocol}-idle-sweeper")
        self.metrics.port = self.port
        log.info("%s listener on %s:%d", self.protocol, self.host, self.port)
        return self.port

    async def _sweep_idle(self) -> None:
        """Close sessions that sent nothing for `idle_timeout` seconds."""
        timeout = self.limits.idle_timeout
        period = max(0.05, min(timeout / 4, 30.0))
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(period)
            cutoff = loop.time() - timeout
            for session in [s for s in self._all if s.last_active < cutoff]:
                self.metrics.idle_timeouts += 1
                self._all.discard(session)
                session.writer.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        metrics = self.metrics
        if metrics.connections_open >= self.limits.max_connections:
            metrics.connections_rejected += 1
            writer.close()
            return
        metrics.connections_open += 1
        metrics.connections_total += 1
        session = Session(self, reader, writer)
        self._all.add(session)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await session.run()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            pass  # the listener is stopping; asyncio's stream callback must not see the cancellation
        except Exception:
            log.exception("session %s failed; closing it", session.peer)
        finally:
            metrics.connections_open -= 1
            self._all.discard(session)
            if task is not None:
                self._tasks.discard(task)
            if session.device is not None and self.sessions.get(session.device.pk) is session:
                del self.sessions[session.device.pk]
                with contextlib.suppress(Exception):
                    await self.directory.disconnected(session.device.pk)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        if self._server is not None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None
