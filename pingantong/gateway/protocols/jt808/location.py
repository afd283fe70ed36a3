"""The 0x0200 location body and its additional-information TLVs (FORMATS.md §2.4–2.5).

Alarm mapping onto the platform vocabulary (docs/protocols/jt808.md has the full table):
bit0 emergency → `sos`; bit7 main-power under-voltage → `low_battery`; bit8 main power lost →
`power_cut`; bits 4–6, 9–11 (GNSS, antenna, LCD/TTS/camera) → `fault`; bit20 area in/out →
`geofence_enter`/`geofence_exit` from TLV 0x12 (else `other`); bits 16/17 (reserved in 2011/2013;
Traccar reads tampering) → `tamper` for pre-2019 headers; any other set bit → `other` (the raw bits
stay in ``extra["alarm_flags"]``). Every set bit is reported: an SOS never hides behind another.

TLVs are parsed defensively: every read is bounded by the TLV, a TLV running past the body ends
the walk with a warning (Traccar throws, issue #5331), unknown ids are skipped.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from pingantong.gateway.events import Position
from pingantong.gateway.protocols.jt808.header import Jt808FormatError

LOCATION_SIZE = 28
ALARM_BITS: dict[int, str] = {
    0: "sos",
    4: "fault",
    5: "fault",
    6: "fault",
    7: "low_battery",
    8: "power_cut",
    9: "fault",
    10: "fault",
    11: "fault",
}
LEGACY_RESERVED_BITS: dict[int, str] = {16: "tamper", 17: "tamper"}
GEOFENCE_BIT = 20
JIMI_ALARMS: dict[int, str] = {
    0x0C01: "sos",
    0x0C02: "low_battery",
    0x0C0F: "low_battery",
    0x0C0E: "power_cut",
    0x0C10: "power_off",
    0x0C12: "tamper",
}
BATTERY_LEVEL_TLVS = frozenset({0x06, 0xD4, 0xE1, 0xE9, 0xFE})  # 0x06: vendor, seen in Traccar tests


@dataclass(slots=True)
class Location:
    """What one 0x0200 body says, ready to become a `DeviceEvent`."""

    device_time: datetime | None
    position: Position | None
    alarms: list[str]
    battery_pct: int | None = None
    signal_pct: int | None = None
    steps: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


_BCD_TIMES_MAX = 4096


def bcd_time(data: bytes, tz_offset_minutes: int) -> datetime | None:
    """``YYMMDDhhmmss`` BCD in the device zone (+08:00 by the standard) → aware UTC, or None.

    Thousands of terminals report the same second: the answers (immutable datetimes) are kept
    for the last few thousand distinct times, which saves most of the parsing at 10,000 frames/s.
    """
    return _parse_bcd_time(bytes(data), tz_offset_minutes)


@lru_cache(maxsize=_BCD_TIMES_MAX)
def _parse_bcd_time(data: bytes, tz_offset_minutes: int) -> datetime | None:
    text = data.hex()
    if len(text) != 12 or not text.isdigit():
        return None
    # Fixed two-digit fields: read them directly (strptime was the codec's hottest call). The
    # century follows strptime's %y: 69–99 → 19xx, 00–68 → 20xx.
    year = int(text[0:2])
    try:
        local = datetime(
            year + (1900 if year >= 69 else 2000),
            int(text[2:4]),
            int(text[4:6]),
            int(text[6:8]),
            int(text[8:10]),
            int(text[10:12]),
        )
    except ValueError:
        return None
    return (local - timedelta(minutes=tz_offset_minutes)).replace(tzinfo=UTC)


def csq_to_pct(csq: int) -> int | None:
    """0x30 is the modem's CSQ (0–31, 99 = unknown) on the terminals we see; map it to 0–100 %."""
    return round(csq * 100 / 31) if 0 <= csq <= 31 else None


def decode_location(body: bytes, tz_offset_minutes: int, *, legacy_header: bool = True) -> Location:
    if len(body) < LOCATION_SIZE:
        raise Jt808FormatError(f"location body of {len(body)} bytes, need {LOCATION_SIZE}")
    alarm_flags, status, lat_raw, lon_raw, altitude, speed, course = struct.unpack_from(">IIIIhHH", body)
    valid = bool(status & 0x2)
    latitude = lat_raw / 1e6 * (-1 if status & 0x4 else 1)
    longitude = lon_raw / 1e6 * (-1 if status & 0x8 else 1)
    loc = Location(device_time=bcd_time(body[22:28], tz_offset_minutes), position=None, alarms=[])
    loc.extra["status_flags"] = status
    if alarm_flags:
        loc.extra["alarm_flags"] = alarm_flags
    satellites = _walk_tlvs(body[LOCATION_SIZE:], loc)
    if lat_raw or lon_raw:  # 0,0 is "no coordinates", never a place to plot
        loc.position = Position(
            latitude, longitude, valid, speed / 10, float(course), float(altitude), satellites
        )
    elif satellites is not None:
        loc.extra["satellites"] = satellites
    loc.alarms = _alarms(alarm_flags, legacy_header, loc) + loc.alarms
    return loc


def _alarms(flags: int, legacy_header: bool, loc: Location) -> list[str]:
    out: list[str] = []
    if not flags:
        return out
    for bit in range(flags.bit_length()):
        if not flags >> bit & 1:
            continue
        if bit in ALARM_BITS:
            out.append(ALARM_BITS[bit])
        elif legacy_header and bit in LEGACY_RESERVED_BITS:
            out.append(LEGACY_RESERVED_BITS[bit])
        elif bit == GEOFENCE_BIT and "area_direction" in loc.extra:
            out.append("geofence_exit" if loc.extra["area_direction"] else "geofence_enter")
        else:
            out.append("other")
    return out


def _walk_tlvs(data: bytes, loc: Location) -> int | None:
    satellites = None
    i = 0
    while i + 2 <= len(data):
        tag, length = data[i], data[i + 1]
        value = data[i + 2 : i + 2 + length]
        if len(value) < length:
            loc.warnings.append(f"TLV 0x{tag:02X} runs past the body ({length} > {len(value)})")
            break
        i += 2 + length
        if tag == 0x31 and length == 1:
            satellites = value[0]
        else:
            _tlv(tag, value, loc)
    return satellites


def _tlv(tag: int, value: bytes, loc: Location) -> None:
    n = len(value)
    if tag == 0x01 and n == 4:
        loc.extra["odometer_km"] = int.from_bytes(value, "big") / 10
    elif tag == 0x12 and n in (2, 6):
        loc.extra["area_direction"] = value[-1]
    elif tag == 0x30 and n == 1:
        loc.extra["rssi"] = value[0]
        loc.signal_pct = csq_to_pct(value[0])
    elif tag in BATTERY_LEVEL_TLVS and n == 1:
        _battery_level(value[0], loc)
    elif tag == 0x56 and n >= 1:
        loc.battery_pct = min(value[0] * 10, 100)
    elif tag == 0xE3 and n >= 2:
        loc.battery_pct = value[1]
    elif tag == 0xE4 and n == 2:
        loc.extra["charge"] = value[0] == 0
        loc.battery_pct = value[1]
    elif tag == 0xF7 and n >= 6:
        loc.extra["battery_v"] = int.from_bytes(value[:4], "big") / 1000
        loc.extra["charge"] = value[4] in (2, 3)
        loc.battery_pct = value[5]
    elif tag == 0xF8 and n in (2, 4):
        loc.steps = int.from_bytes(value, "big")
    elif tag == 0xF6 and n == 8 and value.hex().lstrip("0").isdigit():
        loc.extra["imei"] = value.hex().lstrip("0")
    elif tag == 0x51 and n >= 2 and n % 2 == 0:
        for k in range(n // 2):
            raw = int.from_bytes(value[2 * k : 2 * k + 2], "big")
            if raw != 0xFFFF:
                loc.extra[f"temp{k + 1}"] = (-1 if raw & 0x8000 else 1) * (raw & 0x7FFF) / 10
    elif tag == 0xE8:
        _jimi(value, loc)
    elif tag == 0xEB:
        _nested(value, loc)


def _battery_level(level: int, loc: Location) -> None:
    if level == 0xFF:
        loc.extra["charge"] = True
    else:
        loc.battery_pct = min(level, 100)


def _jimi(data: bytes, loc: Location) -> None:
    """Jimi (JC models) 0xE8: {ext WORD, len BYTE, value}."""
    i = 0
    while i + 3 <= len(data):
        ext, length = struct.unpack_from(">HB", data, i)
        value = data[i + 3 : i + 3 + length]
        i += 3 + length
        if ext in JIMI_ALARMS:
            loc.alarms.append(JIMI_ALARMS[ext])
        elif ext >> 8 == 0x0C:
            loc.alarms.append("other")
        elif ext == 0x2003 and len(value) >= 4:
            loc.extra["charge"] = bool(value[0])
            loc.extra["battery_v"] = int.from_bytes(value[2:4], "big") / 100


def _nested(data: bytes, loc: Location) -> None:
    """0xEB: {len WORD, type WORD, value}; a printable 0xEB is a time-zone string instead."""
    if data and all(0x20 <= b < 0x7F for b in data.rstrip(b"\x00")):
        loc.extra["timezone"] = data.rstrip(b"\x00").decode("ascii")
        return
    i = 0
    while i + 4 <= len(data):
        length, kind = struct.unpack_from(">HH", data, i)
        if length < 2:
            loc.warnings.append("0xEB item with length < 2")
            return
        value = data[i + 4 : i + 2 + length]
        i += 2 + length
        number = int.from_bytes(value, "big") if value else 0
        if kind == 0x0089 and len(value) == 4:  # inverted bits: 0 means the condition is present
            if not number & 1:
                loc.alarms.append("power_off")
            if not number >> 12 & 1:
                loc.alarms.append("removed")
        elif kind == 0x00C6 and value and value[-1] in (3, 4):
            loc.alarms.append("low_battery")
        elif kind == 0x002D and len(value) in (2, 4):
            loc.extra["battery_v" if len(value) == 2 else "power_v"] = number / 1000
        elif kind in (0x00A8, 0x00E1) and len(value) == 1:
            _battery_level(value[0], loc)
        elif kind == 0x00B2 and value:
            loc.extra["iccid"] = value.hex().rstrip("f")
        elif kind == 0x00D5 and value:
            loc.extra["imei"] = value.decode("ascii", "replace")
