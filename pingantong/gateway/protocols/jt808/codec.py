"""`Jt808Codec`: one JT/T 808 connection (framing, checksum, sub-packages, replies, session)."""

from __future__ import annotations

from collections import OrderedDict

from pingantong.gateway.protocols.base import DEFAULT_TZ_OFFSET_MINUTES, DecodedFrame
from pingantong.gateway.protocols.jt808.decoder import (
    PROTOCOL,
    RESULT_MESSAGE_ERROR,
    RESULT_OK,
    decode_message,
    decode_text_frame,
)
from pingantong.gateway.protocols.jt808.encoder import Jt808Commands
from pingantong.gateway.protocols.jt808.framing import MAX_FRAME_SIZE, Jt808Framer, xor_checksum
from pingantong.gateway.protocols.jt808.header import (
    Jt808FormatError,
    Jt808Header,
    parse_header,
    phone_field,
)

MAX_PENDING_MESSAGES = 8
MAX_PACKAGES = 256


class _PlatformSerial:
    """A session's platform serial, shared by the codec and its downlink encoders. The encoders
    hold this counter, not the codec's bound method: that made codec → encoder → codec a
    reference cycle, so every closed connection's session was left to the cycle collector
    (10,000 of them at a reconnect storm: one 360 ms collection on the event loop)."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0

    def __call__(self) -> int:
        serial = self.value
        self.value = (serial + 1) & 0xFFFF
        return serial


class Jt808Codec:
    """Sans-IO JT/T 808 session.

    Session state: `device_id`, `phone` (the terminal number bytes, echoed in every reply),
    `version` (the 2019 version byte, None for 2011/2013; `is_2019`), and the platform serial
    (`next_serial()`, per instance, wrapping after 0xFFFF). `tz_offset_minutes` is +08:00 by the
    standard. Checksums: Traccar never checks them and real devices get them wrong, so by default
    a bad checksum is decoded with a warning; `strict_checksum=True` rejects the frame with an
    0x8001 result 2 instead. Sub-packages (attr bit 13) are reassembled, each one acknowledged;
    at most `MAX_PENDING_MESSAGES` incomplete messages of up to `MAX_PACKAGES` packages are held.
    """

    protocol = PROTOCOL

    def __init__(
        self,
        *,
        tz_offset_minutes: int = DEFAULT_TZ_OFFSET_MINUTES,
        max_frame_size: int = MAX_FRAME_SIZE,
        strict_checksum: bool = False,
    ) -> None:
        self.tz_offset_minutes = tz_offset_minutes
        self.max_frame_size = max_frame_size
        self.strict_checksum = strict_checksum
        self.device_id: str | None = None
        self.phone: bytes | None = None
        self.version: int | None = None
        self.is_2019 = False
        self._serials = _PlatformSerial()
        self._commands: Jt808Commands | None = None
        self._framer = Jt808Framer(max_frame_size)
        self._pending: OrderedDict[tuple[int, int], dict[int, bytes]] = OrderedDict()
        self._pending_header: dict[tuple[int, int], Jt808Header] = {}

    @property
    def buffered(self) -> int:
        return self._framer.buffered

    def next_serial(self) -> int:
        return self._serials()

    def feed(self, data: bytes) -> list[DecodedFrame]:
        try:
            cut = self._framer.feed(bytes(data))
        except Exception as exc:  # a bug must cost one read, never the listener
            self._framer = Jt808Framer(self.max_frame_size)
            return [DecodedFrame([], None, bytes(data), f"framing failed: {exc!r}")]
        out = []
        for piece in cut:
            if piece.data is None:
                out.append(DecodedFrame([], None, piece.raw, piece.error))
                continue
            if piece.text:
                result = self._safe(lambda p=piece: DecodedFrame([decode_text_frame(p.raw)], None, p.raw))
            else:
                result = self.decode_frame(piece.data)
            result.raw = piece.raw
            result.warnings[:0] = piece.warnings
            out.append(result)
        return out

    def decode_frame(self, frame: bytes) -> DecodedFrame:
        """Decode one message: un-escaped, without or with its ``7E`` delimiters."""
        data = bytes(frame)
        if len(data) >= 2 and data[0] == data[-1] == 0x7E:
            data = data[1:-1]
        if data[:1] == b"(":
            return self._safe(lambda: DecodedFrame([decode_text_frame(data)], None, data))
        return self._safe(lambda: self._decode(data))

    def _safe(self, work) -> DecodedFrame:  # type: ignore[no-untyped-def]
        try:
            return work()  # type: ignore[no-any-return]
        except Exception as exc:  # defensive: decoding must never raise into the listener
            return DecodedFrame([], None, b"", f"decoder failure: {exc!r}")

    def _decode(self, data: bytes) -> DecodedFrame:
        try:
            header = parse_header(data)
        except Jt808FormatError as exc:
            return DecodedFrame([], None, data, str(exc))
        self._learn(header)
        warnings = []
        message, checksum = data[:-1], data[-1]
        if xor_checksum(message) != checksum:
            text = f"bad checksum 0x{checksum:02X}, computed 0x{xor_checksum(message):02X}"
            if self.strict_checksum:
                reply = self.commands.general_response(header.serial, header.msg_id, RESULT_MESSAGE_ERROR)
                return DecodedFrame([], reply, data, text)
            warnings.append(text)
        body = message[header.size :]
        if len(body) != header.body_length:
            warnings.append(f"body length field {header.body_length}, actual {len(body)}")
        if header.subpackaged:
            return self._subpackage(header, body, data, warnings)
        return self._complete(header, body, data, warnings)

    def _learn(self, header: Jt808Header) -> None:
        self.device_id, self.phone = header.device_id, header.phone
        self.is_2019, self.version = header.is_2019, header.version

    def _complete(
        self,
        header: Jt808Header,
        body: bytes,
        raw: bytes,
        warnings: list[str],
        *,
        reply_serial: int | None = None,
    ) -> DecodedFrame:
        try:
            decoded = decode_message(header, body, self.tz_offset_minutes)
        except (Jt808FormatError, ValueError, IndexError) as exc:
            nack = self.commands.general_response(header.serial, header.msg_id, RESULT_MESSAGE_ERROR)
            return DecodedFrame([], nack, raw, f"0x{header.msg_id:04X}: {exc}", warnings)
        reply: bytes | None = None
        serial = header.serial if reply_serial is None else reply_serial
        if decoded.reply == "register":
            reply = self.commands.register_response(serial, RESULT_OK, header.phone.hex())
        elif decoded.reply == "general" and reply_serial is None:
            reply = self.commands.general_response(serial, header.msg_id, decoded.result)
        return DecodedFrame(decoded.events, reply, raw, None, warnings + decoded.warnings)

    def _subpackage(self, header: Jt808Header, body: bytes, raw: bytes, warnings: list[str]) -> DecodedFrame:
        total, index = header.total or 0, header.index or 0
        if not 1 <= index <= total <= MAX_PACKAGES:
            reply = self.commands.general_response(header.serial, header.msg_id, RESULT_MESSAGE_ERROR)
            return DecodedFrame([], reply, raw, f"bad sub-package {index}/{total}", warnings)
        key = (header.msg_id, total)
        if index == 1 or key not in self._pending:
            self._pending.pop(key, None)
            self._pending[key] = {}
            self._pending_header[key] = header
            while len(self._pending) > MAX_PENDING_MESSAGES:
                dropped, _ = self._pending.popitem(last=False)
                self._pending_header.pop(dropped, None)
                warnings.append(f"dropped incomplete 0x{dropped[0]:04X} sub-packages (too many pending)")
        parts = self._pending[key]
        parts[index] = body
        ack = self.commands.general_response(header.serial, header.msg_id, RESULT_OK)
        if len(parts) < total:
            return DecodedFrame([], ack, raw, None, warnings)
        first = self._pending_header.pop(key)
        del self._pending[key]
        whole = b"".join(parts[i] for i in range(1, total + 1))
        done = self._complete(first, whole, raw, warnings, reply_serial=first.serial)
        done.reply = ack if done.reply is None or first.msg_id != 0x0100 else done.reply
        return done

    @property
    def commands(self) -> Jt808Commands:
        """Downlink encoder for this session's terminal (requires a decoded frame first)."""
        if self.phone is None:
            raise LookupError("no terminal number yet: decode a frame from the device first")
        cached = self._commands
        if cached is None or cached.phone != self.phone or cached.version != self.version:
            cached = self._commands = Jt808Commands(self.phone, self._serials, version=self.version)
        return cached

    def commands_for(self, device_id: str, *, version: int | None = None) -> Jt808Commands:
        """Downlink encoder for a terminal known only by its device id (no live session)."""
        return Jt808Commands(
            phone_field(device_id, is_2019=version is not None), self._serials, version=version
        )
