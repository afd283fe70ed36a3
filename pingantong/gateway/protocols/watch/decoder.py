"""Watch protocol messages → `DeviceEvent`s (FORMATS.md §1.2–1.5).

Differences from Traccar, on purpose:

* **Every** set status bit becomes an alarm (Traccar keeps only the first match), so an SOS sent
  together with low battery keeps the SOS. An `AL*` frame with no mapped bit gives `other`
  (Traccar: `general`); it is a deliberate alarm message, so it is never silently a position.
* Date and time are read in the device's clock zone (`tz_offset_minutes`, +08:00 by default) and
  converted to UTC. Traccar reads them as UTC, but Chinese watches keep local time unless told
  otherwise with `LZ` (FORMATS.md §1.7); the zone is a per-device setting.
* A record with coordinates exactly 0,0 (typically `V`, no fix) gives no position, only
  cells/Wi-Fi in `extra` for LBS lookup: 0,0 must never be plotted.
* A heart rate of 0 (`heart,0`) is a failed measurement, not a reading: no vital, `extra` notes it.
* No media is stored by the codec: `TK`/`JXTK`/`img` give an `other` event with the payload size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pingantong.gateway.events import DeviceEvent, Position

PROTOCOL = "watch"

STATUS_ALARM_BITS: tuple[tuple[int, str], ...] = (
    (0, "low_battery"),
    (1, "geofence_exit"),
    (2, "geofence_enter"),
    (14, "power_cut"),
    (16, "sos"),
    (17, "low_battery"),
    (18, "geofence_exit"),
    (19, "geofence_enter"),
    (20, "removed"),
    (21, "fall"),
    (22, "fall"),
)
"""Status word bit → alarm (FORMATS.md §1.5). Data, not code, so a model table can override it."""

_HEX4 = re.compile(rb"[0-9A-Fa-f]{4}\*")
_HEXLETTERS = re.compile(r"[A-Fa-f]")


class WatchFormatError(ValueError):
    """The frame does not have the `[MM*ID*[IDX*]LLLL*CONTENT]` shape."""


@dataclass(slots=True, frozen=True)
class WatchFrame:
    """The header of one frame and its raw content (bytes: `TK` voice is binary)."""

    vendor: str
    device_id: str
    index: str | None
    length_field: str
    content: bytes

    @property
    def message_type(self) -> str:
        end = self.content.find(b",")
        head = self.content if end < 0 else self.content[:end]
        return head.decode("ascii", "replace")

    def fields(self) -> list[str]:
        """The comma-separated values after TYPE, as text (UTF-8, undecodable bytes replaced)."""
        end = self.content.find(b",")
        if end < 0:
            return []
        return self.content[end + 1 :].decode("utf-8", "replace").split(",")


def parse_frame(frame: bytes) -> WatchFrame:
    """Split an un-escaped ``[…]`` frame into header fields and content."""
    if len(frame) < 2 or frame[:1] != b"[" or frame[-1:] != b"]":
        raise WatchFormatError("frame must start with '[' and end with ']'")
    body = frame[1:-1]
    parts = body.split(b"*", 2)
    if len(parts) < 3:
        raise WatchFormatError("header needs vendor*id*length*content")
    vendor_b, id_b, rest = parts
    if not vendor_b or not vendor_b.isalnum() or len(vendor_b) > 8:
        raise WatchFormatError(f"bad vendor tag {vendor_b[:16]!r}")
    if not id_b or not id_b.isalnum() or len(id_b) > 24:
        raise WatchFormatError(f"bad device id {id_b[:32]!r}")
    index: str | None = None
    if _HEX4.match(rest) and _HEX4.match(rest, 5):
        index = rest[:4].decode()
        rest = rest[5:]
    if not _HEX4.match(rest):
        raise WatchFormatError("missing 4-hex-digit length field")
    return WatchFrame(vendor_b.decode(), id_b.decode(), index, rest[:4].decode(), rest[5:])


def _num(value: str, kind: type = float) -> Any:
    value = value.strip()
    if not value:
        return None
    return kind(float(value)) if kind is int else kind(value)


def _device_time(date: str, time: str, tz_offset_minutes: int) -> datetime | None:
    text = date.strip() + time.strip()[:6]
    try:
        if len(text) == 12 and text.isdigit():
            # The usual DDMMYY + hhmmss: read the fields directly (strptime is slow); same result.
            year = int(text[4:6])
            local = datetime(
                year + (1900 if year >= 69 else 2000),
                int(text[2:4]),
                int(text[0:2]),
                int(text[6:8]),
                int(text[8:10]),
                int(text[10:12]),
            )
        else:
            local = datetime.strptime(text, "%d%m%y%H%M%S")
    except ValueError:
        return None
    return (local - timedelta(minutes=tz_offset_minutes)).replace(tzinfo=UTC)


def _coordinate(value: str, hemisphere: str) -> float:
    number = float(value.strip())
    return -abs(number) if hemisphere.strip().upper() in ("S", "W") else number


def status_alarms(status: int) -> list[str]:
    return [name for bit, name in STATUS_ALARM_BITS if status >> bit & 1]


def _network(tail: list[str]) -> dict[str, Any]:
    """Cells and Wi-Fi after the status word, for LBS lookup; best effort, never raises."""
    out: dict[str, Any] = {}
    try:
        i = 0
        cell_count = int(tail[i])
        if cell_count > 0 and len(tail) > 3 and _HEXLETTERS.search(tail[3]):
            return out  # Traccar's rule: letters in the MNC slot mean an unknown layout
        i += 1
        cells = []
        if cell_count > 0:
            mcc, mnc = int(tail[i + 1]), int(tail[i + 2])
            i += 3
            for _ in range(cell_count):
                lac, cid, rssi = tail[i : i + 3]
                base = 16 if _HEXLETTERS.search(lac + cid) else 10
                cells.append(
                    {
                        "mcc": mcc,
                        "mnc": mnc,
                        "lac": int(lac, base),
                        "cid": int(cid, base),
                        "rssi": int(rssi) if rssi.strip() else None,
                    }
                )
                i += 3
        if cells:
            out["cells"] = cells
        wifi_count = int(tail[i]) if i < len(tail) and tail[i].strip() else 0
        i += 1
        wifi = []
        for _ in range(wifi_count):
            ssid, mac, rssi = tail[i : i + 3]
            i += 3
            if mac.strip() and mac.strip() != "0":
                wifi.append(
                    {"ssid": ssid, "mac": mac.strip().lower(), "rssi": int(rssi) if rssi.strip() else None}
                )
        if wifi:
            out["wifi"] = wifi
    except (ValueError, IndexError):
        pass
    return out


def decode_position(frame: WatchFrame, tz_offset_minutes: int) -> DeviceEvent:
    """UD*/AL*/WT* body (FORMATS.md §1.4). Raises ValueError/IndexError on a broken body."""
    v = frame.fields()
    mtype = frame.message_type
    is_alarm_message = mtype.startswith("AL")
    valid = v[2].strip().upper() == "A"
    lat, lon = _coordinate(v[3], v[4]), _coordinate(v[5], v[6])
    position = None
    if lat != 0.0 or lon != 0.0:  # 0,0 means "no coordinates": never plot it
        position = Position(
            latitude=lat,
            longitude=lon,
            valid=valid,
            speed_kmh=_num(v[7]),
            course_deg=_num(v[8]),
            altitude_m=_num(v[9]),
            satellites=_num(v[10], int),
        )
    status_text = v[15].strip() if len(v) > 15 else ""
    status = int(status_text, 16) if status_text else 0
    alarms = status_alarms(status)
    if is_alarm_message and not alarms:
        alarms = ["other"]
    extra: dict[str, Any] = {"status": status_text} if status_text else {}
    if status >> 4 & 1:
        extra["motion"] = True
    extra.update(_network(v[16:]))
    return DeviceEvent(
        protocol=PROTOCOL,
        device_id=frame.device_id,
        message=mtype,
        kind="alarm" if alarms else "position",
        device_time=_device_time(v[0], v[1], tz_offset_minutes),
        position=position,
        alarms=alarms,
        signal_pct=_num(v[11], int) if len(v) > 11 else None,
        battery_pct=_num(v[12], int) if len(v) > 12 else None,
        steps=_num(v[13], int) if len(v) > 13 else None,
        archived=mtype == "UD2",
        extra=extra,
    )


def _positive(value: str | None, kind: type = float) -> Any:
    """A measurement, or None when absent, unparsable or not positive (0 = 'no reading')."""
    if value is None:
        return None
    try:
        number = _num(value, kind)
    except ValueError:
        return None
    return number if number is not None and number > 0 else None


def _vitals(mtype: str, v: list[str]) -> dict[str, float]:
    """Health messages (FORMATS.md §1.3) → contract vital keys, only the readings present."""
    get = lambda i: v[i] if i < len(v) else None  # noqa: E731
    kind = mtype.upper()
    vitals: dict[str, float] = {}
    if kind in ("PULSE", "HEART"):
        vitals["heart_rate_bpm"] = _positive(get(0), int)
    elif kind in ("BLOOD", "BPHRT"):
        vitals["bp_systolic_mmhg"] = _positive(get(0), int)
        vitals["bp_diastolic_mmhg"] = _positive(get(1), int)
        vitals["heart_rate_bpm"] = _positive(get(2), int)
    elif kind == "TEMP":
        vitals["body_temp_c"] = _positive(get(0))
    elif kind == "BTEMP2":
        if (_positive(get(0)) or 0) > 0:
            vitals["body_temp_c"] = _positive(get(1))
    elif kind == "OXYGEN":
        vitals["spo2_pct"] = _positive(get(1), int)
    return {k: val for k, val in vitals.items() if val is not None}


HEALTH_TYPES = frozenset({"PULSE", "HEART", "BLOOD", "BPHRT", "TEMP", "BTEMP2", "OXYGEN"})
MEDIA_TYPES = ("TK", "TK2", "JXTK", "IMG")


def _event(frame: WatchFrame, kind: str, **fields: Any) -> DeviceEvent:
    return DeviceEvent(
        protocol=PROTOCOL, device_id=frame.device_id, message=frame.message_type, kind=kind, **fields
    )


def _media(frame: WatchFrame) -> DeviceEvent:
    """Voice/image uploads: size and chunk info only; media storage is the listener's job."""
    mtype = frame.message_type
    extra: dict[str, Any] = {"media": "image/jpeg" if mtype.upper() == "IMG" else "audio/amr"}
    comma = frame.content.find(b",")
    payload = b"" if comma < 0 else frame.content[comma + 1 :]
    if mtype.upper() == "JXTK":
        head = payload.split(b",", 4)
        if len(head) == 5:
            extra.update(
                name=head[1].decode("utf-8", "replace"),
                chunk=_positive(head[2].decode("ascii", "replace"), int),
                chunks=_positive(head[3].decode("ascii", "replace"), int),
            )
            payload = head[4]
    extra["media_bytes"] = len(payload)
    return _event(frame, "other", extra=extra)


def decode_message(
    frame: WatchFrame, tz_offset_minutes: int
) -> tuple[list[DeviceEvent], str | None, str | None]:
    """One frame → (events, reply content or None, error or None). Never raises."""
    mtype = frame.message_type
    upper = mtype.upper()
    v = frame.fields()
    if upper.startswith("AL") or upper.startswith("UD") or upper.startswith("WT"):
        reply = "AL" if upper.startswith("AL") else None
        try:
            return [decode_position(frame, tz_offset_minutes)], reply, None
        except (ValueError, IndexError) as exc:
            error = f"{mtype}: malformed position body ({exc.__class__.__name__}: {exc})"
            if reply:  # an alarm frame: keep the call for help even if the body is broken
                return [_event(frame, "alarm", alarms=["other"], extra={"malformed": True})], reply, error
            return [], None, error
    if upper == "LK":
        extra: dict[str, Any] = {}
        if len(v) >= 3:
            extra["tumbles"] = _positive(v[1], int) or 0
            return (
                [
                    _event(
                        frame,
                        "heartbeat",
                        steps=_num_or_none(v[0]),
                        battery_pct=_num_or_none(v[2]),
                        extra=extra,
                    )
                ],
                "LK",
                None,
            )
        return [_event(frame, "heartbeat")], "LK", None
    if upper == "INIT":
        return [_event(frame, "login")], "INIT,1", None
    if upper in ("TKQ", "TKQ2"):
        return [_event(frame, "other")], mtype, None
    if upper in HEALTH_TYPES:
        vitals = _vitals(mtype, v)
        extra = {} if vitals else {"measurement_failed": True}
        return [_event(frame, "vitals", vitals=vitals, extra=extra)], None, None
    if upper in MEDIA_TYPES:
        return [_media(frame)], "JXTKR,1" if upper == "JXTK" else None, None
    return [_event(frame, "other")], None, None


def _num_or_none(value: str) -> int | None:
    try:
        return _num(value, int)
    except ValueError:
        return None
