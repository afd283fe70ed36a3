"""JT/T 808 messages → `DeviceEvent`s, and which reply each one needs (FORMATS.md §2.2).

Replies: 0x0100 → 0x8100 (result 0, auth code = the terminal number as hex text, like Traccar);
the messages Traccar acknowledges → 0x8001 result 0; terminal responses (0x0001, 0x0201, 0x0104,
0x0701, 0x1300, 0x0702, 0x2070) and vendor 0x5501/0x5502 → no reply; any other message →
0x8001 result 3 "not supported", as the standard asks, so the terminal stops retrying it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from pingantong.gateway.events import DeviceEvent
from pingantong.gateway.protocols.jt808.header import Jt808FormatError, Jt808Header, bcd
from pingantong.gateway.protocols.jt808.location import Location, bcd_time, decode_location

PROTOCOL = "jt808"
RESULT_OK, RESULT_FAILED, RESULT_MESSAGE_ERROR, RESULT_UNSUPPORTED = 0, 1, 2, 3
ACKNOWLEDGED = frozenset(
    {
        0x0002,
        0x0003,
        0x0102,
        0x0200,
        0x0704,
        0x0210,
        0x0107,
        0x0900,
        0x0506,
        0x8888,
        0x1007,
        0x6006,
        0x0108,
        0x0800,
        0x0801,
    }
)
NO_REPLY = frozenset(
    {0x0001, 0x0100, 0x0201, 0x0104, 0x0302, 0x0500, 0x0701, 0x0702, 0x1300, 0x2070, 0x5501, 0x5502}
)


@dataclass(slots=True)
class Decoded:
    """Events of one (reassembled) message and the reply it needs."""

    events: list[DeviceEvent]
    reply: str | None  # "general" (0x8001), "register" (0x8100) or None
    result: int = RESULT_OK
    warnings: list[str] = field(default_factory=list)


_NAMES: dict[int, str] = {}


def message_name(msg_id: int) -> str:
    name = _NAMES.get(msg_id)
    if name is None:
        name = f"0x{msg_id:04X}"
        if len(_NAMES) < 4096:
            _NAMES[msg_id] = name
    return name


def reply_kind(msg_id: int) -> tuple[str | None, int]:
    if msg_id == 0x0100:
        return "register", RESULT_OK
    if msg_id in NO_REPLY:
        return None, RESULT_OK
    if msg_id in ACKNOWLEDGED:
        return "general", RESULT_OK
    return "general", RESULT_UNSUPPORTED


class _Builder:
    def __init__(self, header: Jt808Header, tz_offset_minutes: int) -> None:
        self.header = header
        self.tz = tz_offset_minutes
        self.warnings: list[str] = []

    def event(self, kind: str, **fields: Any) -> DeviceEvent:
        return DeviceEvent(
            protocol=PROTOCOL,
            device_id=self.header.device_id,
            message=message_name(self.header.msg_id),
            kind=kind,
            serial=self.header.serial,
            **fields,
        )

    def location(
        self, body: bytes, *, archived: bool = False, extra: dict[str, Any] | None = None
    ) -> DeviceEvent:
        loc: Location = decode_location(body, self.tz, legacy_header=not self.header.is_2019)
        self.warnings.extend(loc.warnings)
        loc.extra.update(extra or {})
        kind = "alarm" if loc.alarms else "position" if loc.position else "status"
        return self.event(
            kind,
            device_time=loc.device_time,
            position=loc.position,
            alarms=loc.alarms,
            battery_pct=loc.battery_pct,
            signal_pct=loc.signal_pct,
            steps=loc.steps,
            archived=archived,
            extra=loc.extra,
        )


def _text(data: bytes) -> str:
    return data.rstrip(b"\x00").decode("gbk", "replace")


def _register(b: _Builder, body: bytes) -> list[DeviceEvent]:
    """0x0100; field sizes differ by edition: maker 5/11, model 20 (8 in 2011)/30, id 7/30."""
    maker, model, ident = (11, 30, 30) if b.header.is_2019 else (5, 20, 7)
    if not b.header.is_2019 and len(body) < 4 + maker + model + ident + 1:
        model = 8  # 2011 edition
    extra: dict[str, Any] = {}
    if len(body) >= 4:
        extra["province"], extra["city"] = struct.unpack_from(">HH", body)
        fields = body[4:]
        extra["maker"] = _text(fields[:maker])
        extra["model"] = _text(fields[maker : maker + model])
        extra["terminal"] = _text(fields[maker + model : maker + model + ident])
        rest = fields[maker + model + ident :]
        if rest:
            extra["plate_color"] = rest[0]
            extra["plate"] = _text(rest[1:])
    return [b.event("login", extra=extra)]


def _authenticate(b: _Builder, body: bytes) -> list[DeviceEvent]:
    extra: dict[str, Any] = {}
    if b.header.is_2019 and body and len(body) >= 1 + body[0]:
        size = body[0]
        extra["auth_code"] = _text(body[1 : 1 + size])
        extra["imei"] = _text(body[1 + size : 16 + size])
        extra["software_version"] = _text(body[16 + size : 36 + size])
    else:
        extra["auth_code"] = _text(body)
    return [b.event("login", extra=extra)]


def _batch(b: _Builder, body: bytes) -> list[DeviceEvent]:
    """0x0704: count WORD, type BYTE (1 = blind area), items {len WORD, 0x0200 body}."""
    if len(body) < 3:
        raise Jt808FormatError("0x0704 body shorter than its header")
    count, kind = struct.unpack_from(">HB", body)
    events: list[DeviceEvent] = []
    i = 3
    while i + 2 <= len(body) and len(events) < count:
        (size,) = struct.unpack_from(">H", body, i)
        item = body[i + 2 : i + 2 + size]
        i += 2 + size
        if len(item) < size:
            b.warnings.append(f"0x0704 item {len(events) + 1} truncated")
            break
        events.append(b.location(item, archived=kind != 0, extra={"batch_type": kind}))
    if len(events) != count:
        b.warnings.append(f"0x0704 announced {count} items, decoded {len(events)}")
    return events


def _vendor_batch(b: _Builder, body: bytes) -> list[DeviceEvent]:
    """0x0210: a 7-byte body is battery BYTE + BCD time; otherwise items {len BYTE, 0x0200 body}."""
    if len(body) == 7:
        return [b.event("status", battery_pct=min(body[0], 100), device_time=bcd_time(body[1:], b.tz))]
    events: list[DeviceEvent] = []
    i = 0
    while i < len(body):
        size = body[i]
        item = body[i + 1 : i + 1 + size]
        i += 1 + size
        if len(item) < size or size == 0:
            break
        if size == 7:
            events.append(
                b.event("status", battery_pct=min(item[0], 100), device_time=bcd_time(item[1:], b.tz))
            )
        else:
            events.append(b.location(item))
    return events


def _general_response(b: _Builder, body: bytes) -> list[DeviceEvent]:
    if len(body) < 5:
        raise Jt808FormatError("0x0001 body shorter than 5 bytes")
    serial, msg_id, result = struct.unpack_from(">HHB", body)
    return [b.event("status", extra={"ack_serial": serial, "ack_msg_id": msg_id, "result": result})]


def _text_report(b: _Builder, body: bytes) -> list[DeviceEvent]:
    msg_id = b.header.msg_id
    if msg_id == 0x0701 and len(body) >= 4:
        text = _text(body[4 : 4 + int.from_bytes(body[:4], "big")])
    elif msg_id == 0x1300 and len(body) >= 2:
        payload = body[2:]  # reply serial, then UTF-16BE text
        text = payload[: len(payload) // 2 * 2].decode("utf-16-be", "replace").strip("\x00\r\n ")
    elif msg_id == 0x6006 and body:
        text = _text(body[1:])
    else:
        text = _text(body)
    return [b.event("status", extra={"result": text})]


def _attributes(b: _Builder, body: bytes) -> list[DeviceEvent]:
    offset = 2 + 5 + (30 + 30 if b.header.is_2019 else 20 + 7)
    extra = {"iccid": bcd(body[offset : offset + 10])} if len(body) >= offset + 10 else {}
    return [b.event("status", extra=extra)]


def decode_message(header: Jt808Header, body: bytes, tz_offset_minutes: int) -> Decoded:
    """Decode one complete (reassembled) message. Raises Jt808FormatError on a broken body."""
    b = _Builder(header, tz_offset_minutes)
    msg_id = header.msg_id
    reply, result = reply_kind(msg_id)
    if msg_id in (0x0200, 0x0201):
        location_body = body[2:] if msg_id == 0x0201 else body
        extra = {"reply_serial": int.from_bytes(body[:2], "big")} if msg_id == 0x0201 else {}
        events = [b.location(location_body, extra=extra)]
    elif msg_id == 0x0704:
        events = _batch(b, body)
    elif msg_id == 0x0210:
        events = _vendor_batch(b, body)
    elif msg_id == 0x0002:
        fields: dict[str, Any] = {}
        if len(body) >= 2:
            fields = {"battery_pct": min(body[0], 100), "extra": {"rssi": body[1]}}
        events = [b.event("heartbeat", **fields)]
    elif msg_id == 0x0100:
        events = _register(b, body)
    elif msg_id == 0x0102:
        events = _authenticate(b, body)
    elif msg_id == 0x0003:
        events = [b.event("status", extra={"logout": True})]
    elif msg_id == 0x0001:
        events = _general_response(b, body)
    elif msg_id in (0x0701, 0x1300, 0x6006):
        events = _text_report(b, body)
    elif msg_id == 0x0107:
        events = _attributes(b, body)
    else:
        events = [b.event("other", extra={"body_hex": body[:256].hex()})]
    return Decoded(events, reply, result, b.warnings)


def decode_text_frame(frame: bytes) -> DeviceEvent:
    """Vendor ASCII frames in parentheses (e-locks): ``(740190311185,1,001,ELOCK,3,529439)``."""
    text = frame.decode("ascii", "replace")
    device_id = text[1:-1].split(",", 1)[0].lstrip("0") or "0"
    return DeviceEvent(
        protocol=PROTOCOL, device_id=device_id, message="text", kind="other", extra={"result": text}
    )
