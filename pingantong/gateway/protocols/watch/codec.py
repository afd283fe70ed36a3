"""`WatchCodec`: one watch connection (framing + decoding + replies + session state)."""

from __future__ import annotations

from pingantong.gateway.protocols.base import DEFAULT_TZ_OFFSET_MINUTES, DecodedFrame
from pingantong.gateway.protocols.watch.decoder import (
    PROTOCOL,
    WatchFormatError,
    decode_message,
    parse_frame,
)
from pingantong.gateway.protocols.watch.encoder import WatchCommands, build_frame
from pingantong.gateway.protocols.watch.framing import MAX_FRAME_SIZE, WatchFramer


class WatchCodec:
    """Sans-IO watch protocol session.

    Session state learned from the frames: `device_id`, `vendor` (echoed in replies and commands)
    and `uses_index` (4G firmware that numbers its frames; commands then carry ``0001``).
    `tz_offset_minutes` is the device's clock zone (per device; default +08:00).
    """

    protocol = PROTOCOL

    def __init__(
        self, *, tz_offset_minutes: int = DEFAULT_TZ_OFFSET_MINUTES, max_frame_size: int = MAX_FRAME_SIZE
    ) -> None:
        self.tz_offset_minutes = tz_offset_minutes
        self.max_frame_size = max_frame_size
        self.device_id: str | None = None
        self.vendor: str | None = None
        self.uses_index = False
        self._framer = WatchFramer(max_frame_size)

    @property
    def buffered(self) -> int:
        return self._framer.buffered

    def feed(self, data: bytes) -> list[DecodedFrame]:
        try:
            cut = self._framer.feed(bytes(data))
        except Exception as exc:  # a bug must cost one read, never the listener
            self._framer = WatchFramer(self.max_frame_size)
            return [DecodedFrame([], None, bytes(data), f"framing failed: {exc!r}")]
        out = []
        for piece in cut:
            if piece.data is None:
                out.append(DecodedFrame([], None, piece.raw, piece.error))
            else:
                frame = self.decode_frame(piece.data)
                frame.raw = piece.raw
                out.append(frame)
        return out

    def decode_frame(self, frame: bytes) -> DecodedFrame:
        try:
            return self._decode(bytes(frame))
        except Exception as exc:  # defensive: decoding must never raise into the listener
            return DecodedFrame([], None, bytes(frame), f"decoder failure: {exc!r}")

    def _decode(self, data: bytes) -> DecodedFrame:
        try:
            parsed = parse_frame(data)
        except WatchFormatError as exc:
            return DecodedFrame([], None, data, str(exc))
        self.device_id, self.vendor = parsed.device_id, parsed.vendor
        if parsed.index is not None:
            self.uses_index = True
        events, reply_content, error = decode_message(parsed, self.tz_offset_minutes)
        reply = None
        if reply_content is not None:
            reply = build_frame(parsed.vendor, parsed.device_id, reply_content, parsed.index)
        return DecodedFrame(events, reply, data, error)

    @property
    def commands(self) -> WatchCommands:
        """Downlink encoder for this session's device (requires a decoded frame first)."""
        if self.device_id is None:
            raise LookupError("no device id yet: decode a frame from the device first")
        return WatchCommands(self.device_id, vendor=self.vendor, use_index=self.uses_index)
