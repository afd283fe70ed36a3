"""The TCP listener of one terminal protocol: one `Session` per connection.

A session lets the protocol codec cut and decode frames, has the frames committed by the ingestor
and only then writes the codec's replies, in order. If storing fails the connection is closed
without a reply, so the terminal resends to us or another node (no unstored message is ever
acknowledged). The codec is created once the terminal's identity is known, with the clock zone
from the registry; until then bytes are held (bounded) in the session.

Sessions are asyncio Protocols driven by callbacks, not stream readers in a task each (decision
0093): at 10,000 busy connections a task switch, a StreamReader buffer and a drain per message
were most of the event loop's time. A session has at most one submission to the ingestor in
flight; frames that arrive meanwhile are decoded and queued, and go in the next submission once
the previous one is committed and answered, so replies keep the order of the frames. Reading is
paused while too many frames wait.

Limits: idle timeout, a cap on bytes buffered waiting for the rest of a frame (the codec's maximum
frame size also applies), a maximum number of connections per listener. Nothing a terminal sends
can raise out of a session: codecs never raise, and anything unexpected closes that one connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pingantong.gateway.ingest import FrameIn, Ingestor, StorageError
from pingantong.gateway.listeners.directory import DeviceDirectory, DeviceInfo
from pingantong.gateway.listeners.metrics import REGISTRY, ListenerMetrics
from pingantong.gateway.protocols import get_codec
from pingantong.gateway.protocols.base import DEFAULT_TZ_OFFSET_MINUTES, Codec, DecodedFrame

log = logging.getLogger("pingantong.gateway.listener")

MAX_QUEUED_FRAMES = 256
"""Frames a connection may have decoded and waiting for its submission; reading pauses beyond."""


@dataclass
class ListenerLimits:
    idle_timeout: float = 1800.0
    """Seconds without a byte before the connection is closed (Traccar's default is 1800 s)."""
    max_connections: int = 20000
    read_size: int = 4096
    max_buffered: int = 64 * 1024
    """Bytes a connection may hold waiting for the rest of a frame (or for its identity), and
    bytes of replies it may leave unread before it is closed."""
    max_unidentified_frames: int = 16


class Session(asyncio.Protocol):
    """One connection from one terminal."""

    __slots__ = (
        "_closed",
        "_drain_waiter",
        "_held",
        "_identifying",
        "_in_flight",
        "_in_flight_batch",
        "_probe",
        "_probe_frames",
        "_queue",
        "_reading_paused",
        "_replied",
        "codec",
        "device",
        "identity",
        "last_active",
        "listener",
        "peer",
        "pending_commands",
        "transport",
    )

    def __init__(self, listener: TcpListener) -> None:
        self.listener = listener
        self.transport: asyncio.Transport | None = None
        self.peer = ""
        self.codec: Codec | None = None
        self.identity: str | None = None
        self.device: DeviceInfo | None = None
        self.pending_commands: dict[Any, Any] = {}
        self.last_active = 0.0
        self._probe: Codec | None = None
        self._held = bytearray()
        self._probe_frames = 0
        self._identifying = False
        self._queue: list[tuple[FrameIn, DecodedFrame]] = []
        self._in_flight = False
        self._in_flight_batch: list[tuple[FrameIn, DecodedFrame]] = []
        self._reading_paused = False
        self._replied = False
        self._closed = False
        self._drain_waiter: asyncio.Future | None = None

    # --- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        tr: asyncio.Transport = transport  # type: ignore[assignment]  # uvloop's: no asyncio.Transport subclass
        self.transport = tr
        listener = self.listener
        metrics = listener.metrics
        if metrics.connections_open >= listener.limits.max_connections:
            metrics.connections_rejected += 1
            self._closed = True
            tr.abort()
            return
        metrics.connections_open += 1
        metrics.connections_total += 1
        listener._all.add(self)
        peer = tr.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer or "")
        self.last_active = listener.loop.time()
        tr.set_write_buffer_limits(high=listener.limits.max_buffered)

    def data_received(self, data: bytes) -> None:
        listener = self.listener
        if listener.ingestor.urgent_ready:  # an SOS stored meanwhile: its ACK first (decision 0143)
            listener.ingestor.settle_urgent()
        if self._closed:
            return
        metrics = listener.metrics
        self.last_active = listener.loop.time()
        metrics.bytes_in += len(data)
        try:
            if self.codec is not None:
                frames = self.codec.feed(data)
                if frames:
                    self._enqueue(frames)
                buffered = self.codec.buffered
            else:
                buffered = self._probe_data(data)
        except Exception:
            log.exception("session %s failed; closing it", self.peer)
            self.close()
            return
        if buffered > listener.limits.max_buffered:
            metrics.oversize_closes += 1
            log.info("closing %s: %d bytes buffered without a complete frame", self.peer, buffered)
            self.close()

    def eof_received(self) -> bool | None:
        return None  # close our side too (replies already written stay queued for the kernel)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._release_drain()
        listener = self.listener
        if self not in listener._all:
            return  # refused at accept: never counted as open
        listener._all.discard(self)
        listener.metrics.connections_open -= 1
        if self.device is not None and listener.sessions.get(self.device.pk) is self:
            del listener.sessions[self.device.pk]
            listener.directory.forget(self.device.pk)

    def pause_writing(self) -> None:
        if self._drain_waiter is None:
            self._drain_waiter = self.listener.loop.create_future()

    def resume_writing(self) -> None:
        self._release_drain()

    def _release_drain(self) -> None:
        waiter, self._drain_waiter = self._drain_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # --- identity ---------------------------------------------------------------------------

    def _probe_data(self, data: bytes) -> int:
        """Before the identity is known: hold the bytes, probe them for the identity with a
        throwaway codec, then look the terminal up and build the real codec (async, once)."""
        self._held += data
        if self._identifying:
            return len(self._held)
        if self._probe is None:
            self._probe = get_codec(self.listener.protocol)
        probed = self._probe.feed(data)
        self._probe_frames += len(probed)
        identity = self._probe.device_id or next((e.device_id for f in probed for e in f.events), None)
        if identity is None:
            if self._probe_frames > self.listener.limits.max_unidentified_frames:
                self.close()
                return 0
            if probed:
                # Frames that carry no identity (garbage): answered and counted, stored as raw frames.
                self._held.clear()
                self._probe = None
                self._enqueue(probed)
            return len(self._held)
        self.identity = identity
        self._identifying = True
        task = self.listener.loop.create_task(self._identify(identity))
        self.listener._tasks.add(task)
        task.add_done_callback(self.listener._tasks.discard)
        return len(self._held)

    async def _identify(self, identity: str) -> None:
        listener = self.listener
        try:
            self.device = await listener.directory.connected(listener.protocol, identity)
        except Exception:
            log.exception("registry look-up for %s failed; closing %s", identity, self.peer)
            self.close()
            return
        if self._closed:
            return
        tz = self.device.tz_offset_minutes if self.device is not None else listener.default_tz
        self.codec = get_codec(listener.protocol, tz_offset_minutes=tz)
        held, self._held, self._probe = bytes(self._held), bytearray(), None
        self._identifying = False
        if self.device is not None:
            listener.sessions[self.device.pk] = self
            for hook in listener.identified_hooks:
                hook(self)
        frames = self.codec.feed(held)
        if frames:
            self._enqueue(frames)

    # --- store, then answer -----------------------------------------------------------------

    def _enqueue(self, frames: list[DecodedFrame]) -> None:
        listener = self.listener
        metrics = listener.metrics
        protocol, peer, identity = listener.protocol, self.peer, self.identity
        queue = self._queue
        for f in frames:
            if f.error:
                metrics.malformed += 1
                log.info("malformed %s frame from %s: %s", protocol, peer, f.error)
            if f.warnings:
                metrics.warnings += len(f.warnings)
            metrics.events += len(f.events)
            queue.append((FrameIn(protocol, f.raw, f.events, peer, identity, f.error), f))
        metrics.frames += len(frames)
        if self.device is None and identity is not None:
            metrics.unknown_device_frames += len(frames)
        if not self._in_flight:
            self._submit()
        elif len(queue) > MAX_QUEUED_FRAMES and not self._reading_paused and self.transport is not None:
            self._reading_paused = True
            self.transport.pause_reading()

    def _submit(self) -> None:
        batch, self._queue = self._queue, []
        self._in_flight = True
        self._in_flight_batch = batch
        self.listener.ingestor.submit_callback(
            [frame_in for frame_in, _ in batch], self._stored, self._journaled
        )

    def _journaled(self) -> None:
        """Called by the ingestor when an urgent submission is durable in the urgent journal
        (decision 0130): the device is answered now. The connection's next frames still wait for
        `_stored` (the database's commit), so a device's events reach the database in order."""
        self._replied = True
        self._reply(self._in_flight_batch)

    def _stored(self, outcome: list[Any] | Exception) -> None:
        """Called by the ingestor on the event loop once the submission is committed (or not)."""
        batch, self._in_flight_batch = self._in_flight_batch, []
        replied, self._replied = self._replied, False
        self._in_flight = False
        listener = self.listener
        metrics = listener.metrics
        exc = outcome if isinstance(outcome, BaseException) else None
        if exc is not None:
            # Nothing of this submission (nor what queued behind it) is acknowledged: close, the
            # terminal resends (ARCHITECTURE.md §2). A submission answered from the urgent
            # journal stays there and is stored again by the ingestor.
            metrics.unacked_storage_failure += (0 if replied else len(batch)) + len(self._queue)
            self._queue.clear()
            if exc is not None and not isinstance(exc, StorageError):
                log.error("ingest failed for %s: %r", self.peer, exc)
            self.close()
            return
        metrics.stored += len(batch)
        if listener._frame_hooks:
            for _, f in batch:
                listener.on_frame(self, f)
        if not replied and not self._reply(batch):
            return
        if self._queue and not self._closed:
            self._submit()
        if self._reading_paused and len(self._queue) <= MAX_QUEUED_FRAMES // 2 and not self._closed:
            self._reading_paused = False
            if self.transport is not None:
                self.transport.resume_reading()

    def _reply(self, batch: list[tuple[FrameIn, DecodedFrame]]) -> bool:
        """Write the replies the frames of `batch` expect; False if the connection was closed
        because the device does not read them."""
        replies = [f.reply for _, f in batch if f.reply]
        if replies and not self._closed and self.transport is not None:
            self.listener.metrics.acked += len(replies)
            self.transport.write(replies[0] if len(replies) == 1 else b"".join(replies))
            if self.transport.get_write_buffer_size() > self.listener.limits.max_buffered:
                log.info("closing %s: it does not read its replies", self.peer)
                self.close()
                return False
        return True

    # --- for the listener and the downlink dispatcher ---------------------------------------

    async def send(self, data: bytes) -> None:
        if self._closed or self.transport is None:
            raise ConnectionError("session closed")
        self.transport.write(data)
        if self._drain_waiter is not None:
            await self._drain_waiter

    def close(self) -> None:
        """Close the connection after what was already written (earlier ACKs) is flushed."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()
        self._closed = True


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
        reuse_port: bool = False,
    ) -> None:
        self.protocol = protocol
        self.ingestor = ingestor
        self.directory = directory
        self.host = host
        self.port = port
        self.limits = limits or ListenerLimits()
        self.default_tz = default_tz
        self.reuse_port = reuse_port
        """SO_REUSEPORT: several gateway processes on one host share the port (the kernel spreads
        connections over them), one per core (decision 0094)."""
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
        self.loop: asyncio.AbstractEventLoop = _running_loop_or_none()  # type: ignore[assignment]

    def add_frame_hook(self, hook: Callable[[Session, DecodedFrame], None]) -> None:
        self._frame_hooks.append(hook)

    def on_frame(self, session: Session, frame: DecodedFrame) -> None:
        for hook in self._frame_hooks:
            try:
                hook(session, frame)
            except Exception:
                log.exception("frame hook failed")

    async def start(self) -> int:
        self.loop = asyncio.get_running_loop()
        self._server = await self.loop.create_server(
            lambda: Session(self),
            self.host,
            self.port,
            backlog=4096,
            reuse_port=self.reuse_port or None,
        )
        sock = self._server.sockets[0]
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        self.port = sock.getsockname()[1]
        self._sweeper = asyncio.create_task(self._sweep_idle(), name=f"{self.protocol}-idle-sweeper")
        self.metrics.port = self.port
        log.info("%s listener on %s:%d", self.protocol, self.host, self.port)
        return self.port

    async def _sweep_idle(self) -> None:
        """Close sessions that sent nothing for `idle_timeout` seconds (one timer for all
        connections instead of one per read)."""
        timeout = self.limits.idle_timeout
        period = max(0.05, min(timeout / 4, 30.0))
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(period)
            cutoff = loop.time() - timeout
            for session in [s for s in self._all if s.last_active < cutoff and not s._closed]:
                self.metrics.idle_timeouts += 1
                session.close()

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
            for session in list(self._all):
                if session.transport is not None:
                    session.transport.abort()
            await asyncio.sleep(0)  # let connection_lost run
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)
            self._server = None


def _running_loop_or_none() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
