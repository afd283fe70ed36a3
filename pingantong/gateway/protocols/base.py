"""What every protocol codec looks like to the listener (sans-IO: bytes in, events and replies out).

A codec instance is one device session: it owns the stream buffer of one TCP connection and what the
session has learned (device id, vendor tag, index use, protocol version, platform serial). It never
does I/O, never reads the clock and never imports Django, so it can be tested with captured bytes
alone and reused by the listener, the `decode` command and the simulator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from pingantong.gateway.events import DeviceEvent

DEFAULT_TZ_OFFSET_MINUTES = 480
"""Deployment default clock zone of terminals (+08:00), see docs/architecture.md."""


@dataclass(slots=True)
class DecodedFrame:
    """The outcome of one frame on the wire.

    `reply` is what to send back, already framed and escaped (None when the protocol expects no
    answer). `raw` is the frame exactly as received, for the audit log. `error` is set when the frame
    was malformed; `events` may still hold what could be salvaged (an `AL` watch frame with a broken
    body still yields an alarm event, because a call for help must not be lost). `warnings` are
    tolerated defects (a bad JT/T 808 checksum, a wrong length field) that the listener should count.
    """

    events: list[DeviceEvent]
    reply: bytes | None
    raw: bytes
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


@runtime_checkable
class Codec(Protocol):
    """The interface the gateway listener uses; `WatchCodec` and `Jt808Codec` implement it.

    Protocol-specific session state lives on the concrete classes: `WatchCodec.vendor` and
    `.uses_index`; `Jt808Codec.phone`, `.version`/`.is_2019` and `.next_serial()` (the platform
    serial, per connection, wrapping after 0xFFFF). Both have a `commands` property, the downlink
    encoder bound to the session (`WatchCommands` / `Jt808Commands`); it raises LookupError until a
    frame has identified the device, which is why it is not a member of this runtime-checkable
    protocol (``isinstance`` would evaluate it).
    """

    protocol: str
    tz_offset_minutes: int
    device_id: str | None
    max_frame_size: int

    def feed(self, data: bytes) -> list[DecodedFrame]:
        """Consume bytes from the socket; return every complete frame. Never raises."""
        ...

    def decode_frame(self, frame: bytes) -> DecodedFrame:
        """Decode one already de-framed, un-escaped frame. Never raises."""
        ...

    @property
    def buffered(self) -> int:
        """Bytes held waiting for the rest of a frame (for back-pressure and idle checks)."""
        ...
