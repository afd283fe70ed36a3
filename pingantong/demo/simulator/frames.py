"""Uplink frames as real terminals send them. Pure functions: no I/O, no clock.

Watch text protocol: `[3G*<id>*<LLLL>*<CONTENT>]` (see docs/protocols/watch.md).
JT/T 808-2013: `7E header body checksum 7E` with 0x7D escapes (docs/protocols/jt808.md).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

# Watch status bits (FORMATS.md §1.5)
WATCH_LOW_BATTERY = 1 << 0
WATCH_GEOFENCE_EXIT = 1 << 1
WATCH_SOS = 1 << 16
WATCH_REMOVED = 1 << 20
WATCH_FALL = 1 << 21

# JT/T 808 alarm bits
JT_SOS = 1 << 0
JT_LOW_POWER = 1 << 7
JT_STATUS_FIX = 1 << 1


def _local(moment: datetime, tz_minutes: int) -> datetime:
    return moment.astimezone(timezone(timedelta(minutes=tz_minutes)))


@dataclass(frozen=True)
class Fix:
    latitude: float
    longitude: float
    valid: bool = True
    speed_kmh: float = 0.0
    course_deg: int = 0
    altitude_m: int = 0
    satellites: int = 8


# ---------------------------------------------------------------- watch protocol


def watch_frame(device_id: str, content: str, vendor: str = "3G") -> bytes:
    body = content.encode("ascii")
    return b"[" + f"{vendor}*{device_id}*{len(body):04X}*".encode("ascii") + body + b"]"


def watch_lk(device_id: str, *, steps: int = 0, tumbles: int = 0, battery: int = 100) -> bytes:
    return watch_frame(device_id, f"LK,{steps},{tumbles},{battery}")


def watch_position(
    device_id: str,
    moment: datetime,
    fix: Fix,
    *,
    kind: str = "UD",
    signal: int = 80,
    battery: int = 90,
    steps: int = 0,
    status: int = 0,
    tz_minutes: int = 480,
) -> bytes:
    """UD (position), UD2 (blind-area) or AL (alarm) with the status bits given."""
    local = _local(moment, tz_minutes)
    lat_hemi = "N" if fix.latitude >= 0 else "S"
    lon_hemi = "E" if fix.longitude >= 0 else "W"
    fields = [
        kind,
        local.strftime("%d%m%y"),
        local.strftime("%H%M%S"),
        "A" if fix.valid else "V",
        f"{abs(fix.latitude):.6f}",
        lat_hemi,
        f"{abs(fix.longitude):.6f}",
        lon_hemi,
        f"{fix.speed_kmh:.2f}",
        str(fix.course_deg),
        str(fix.altitude_m),
        str(fix.satellites),
        str(signal),
        str(battery),
        str(steps),
        "0",
        f"{status:08X}",
        "0",
        "0",
    ]
    return watch_frame(device_id, ",".join(fields))


def watch_heart(device_id: str, bpm: int) -> bytes:
    return watch_frame(device_id, f"heart,{bpm}")


def watch_blood(device_id: str, systolic: int, diastolic: int, bpm: int) -> bytes:
    return watch_frame(device_id, f"bphrt,{systolic},{diastolic},{bpm},,,,")


def watch_oxygen(device_id: str, spo2: int) -> bytes:
    return watch_frame(device_id, f"oxygen,0,{spo2}")


def watch_temperature(device_id: str, celsius: float) -> bytes:
    return watch_frame(device_id, f"btemp2,1,{celsius:.2f}")


# ---------------------------------------------------------------- JT/T 808


def _bcd(digits: str, size: int) -> bytes:
    digits = digits.rjust(size * 2, "0")[-size * 2 :]
    return bytes.fromhex(digits)


def _escape(data: bytes) -> bytes:
    return data.replace(b"\x7d", b"\x7d\x01").replace(b"\x7e", b"\x7d\x02")


def jt808_frame(message_id: int, terminal: str, serial: int, body: bytes) -> bytes:
    header = (
        struct.pack(">HH", message_id, len(body) & 0x3FF)
        + _bcd(terminal, 6)
        + struct.pack(">H", serial & 0xFFFF)
    )
    payload = header + body
    checksum = 0
    for byte in payload:
        checksum ^= byte
    return b"\x7e" + _escape(payload + bytes([checksum])) + b"\x7e"


def jt808_register(terminal: str, serial: int, *, model: str = "PAT-PENDANT") -> bytes:
    body = (
        struct.pack(">HH", 35, 400)  # province, city/county ids
        + b"PATSM"  # maker id, 5 bytes
        + model.encode("ascii")[:20].ljust(20, b"\x00")
        + terminal[-7:].encode("ascii").ljust(7, b"\x00")
        + b"\x00"  # plate colour: none
    )
    return jt808_frame(0x0100, terminal, serial, body)


def jt808_auth(terminal: str, serial: int, auth_code: str) -> bytes:
    return jt808_frame(0x0102, terminal, serial, auth_code.encode("ascii"))


def jt808_heartbeat(terminal: str, serial: int) -> bytes:
    return jt808_frame(0x0002, terminal, serial, b"")


def jt808_location_body(
    moment: datetime, fix: Fix, *, alarm: int = 0, battery: int | None = None, signal: int | None = None
) -> bytes:
    status = JT_STATUS_FIX if fix.valid else 0
    if fix.latitude < 0:
        status |= 1 << 2
    if fix.longitude < 0:
        status |= 1 << 3
    local = _local(moment, 480)  # JT/T 808 times are GMT+8 by the standard
    body = struct.pack(
        ">IIIIHHH",
        alarm,
        status,
        round(abs(fix.latitude) * 1_000_000),
        round(abs(fix.longitude) * 1_000_000),
        max(0, fix.altitude_m) & 0xFFFF,
        round(fix.speed_kmh * 10) & 0xFFFF,
        fix.course_deg % 360,
    ) + bytes.fromhex(local.strftime("%y%m%d%H%M%S"))
    if signal is not None:
        body += bytes([0x30, 1, max(0, min(signal, 31))])
    body += bytes([0x31, 1, fix.satellites & 0xFF])
    if battery is not None:
        body += bytes([0xE4, 2, 1, max(0, min(battery, 100))])
    return body


def jt808_location(terminal: str, serial: int, moment: datetime, fix: Fix, **kwargs) -> bytes:
    return jt808_frame(0x0200, terminal, serial, jt808_location_body(moment, fix, **kwargs))


def jt808_blind_batch(terminal: str, serial: int, bodies: list[bytes]) -> bytes:
    """0x0704 blind-area upload (type 1): positions stored while the terminal had no network."""
    payload = struct.pack(">HB", len(bodies), 1)
    for body in bodies:
        payload += struct.pack(">H", len(body)) + body
    return jt808_frame(0x0704, terminal, serial, payload)


def parse_jt808_reply(frame: bytes) -> tuple[int, bytes]:
    """(message id, body) of a platform reply, for the simulator to read its auth code and acks."""
    data = frame.strip(b"\x7e").replace(b"\x7d\x02", b"\x7e").replace(b"\x7d\x01", b"\x7d")
    message_id, attr = struct.unpack(">HH", data[:4])
    header_len = 12 + (4 if attr & 0x2000 else 0)
    if attr & 0x4000:
        header_len = 17 + (4 if attr & 0x2000 else 0)
    return message_id, data[header_len : header_len + (attr & 0x3FF)]
