"""Watch protocol output: reply frames and downlink commands (FORMATS.md §1.2, §1.6).

Every frame is ``[MM*ID*[IDX*]LLLL*CONTENT]`` with LLLL the lowercase ``%04x`` length of the
(escaped) content bytes. The vendor tag echoes what the device sent (Traccar turns `3G` into `SG`
for commands; we echo, and the caller can override). Without a session the tag is `CS`, as in
Traccar's encoder tests. A device that used an index gets ``0001`` in commands.

Care use: `locate_now` answers a location query (S07/S08), `call_back` is the two-way voice of
the basic terminal (D1), `sos_number(s)` set who the watch calls on SOS (S01).

Commands validate their arguments (`ValueError`): a phone number or text must not be able to
inject ``]`` or ``*`` and break the framing.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pingantong.gateway.protocols.watch.framing import escape

DEFAULT_VENDOR = "CS"
COMMAND_INDEX = "0001"
_PHONE = re.compile(r"\+?[0-9]{1,20}")
_SAFE_TEXT = re.compile(r"[^\[\]*]*")
_OFFSET = re.compile(r"(?:GMT|UTC)?\s*([+-])(\d{1,2})(?::?(\d{2}))?")
_REFERENCE = datetime(2024, 1, 15, 12, 0)  # a fixed date: the codec never reads the clock


def build_frame(vendor: str, device_id: str, content: bytes | str, index: str | None = None) -> bytes:
    """Frame already-escaped `content` for one device."""
    body = content.encode("utf-8") if isinstance(content, str) else content
    head = f"[{vendor}*{device_id}*" + (f"{index}*" if index else "") + f"{len(body):04x}*"
    return head.encode("ascii") + body + b"]"


def _phone(phone: str) -> str:
    phone = phone.strip()
    if not _PHONE.fullmatch(phone):
        raise ValueError(f"not a phone number: {phone!r}")
    return phone


def tz_offset_minutes(tz: int | str) -> int:
    """Minutes east of UTC from minutes, ``±HH:MM``/``GMT±HH:MM`` or an IANA name (standard time)."""
    if isinstance(tz, int):
        return tz
    match = _OFFSET.fullmatch(tz.strip())
    if match:
        sign, hours, minutes = match.groups()
        total = int(hours) * 60 + int(minutes or 0)
        return -total if sign == "-" else total
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {tz!r}") from None
    local = _REFERENCE.replace(tzinfo=zone)
    standard = (local.utcoffset() or timedelta(0)) - (local.dst() or timedelta(0))
    return int(standard.total_seconds() // 60)


def format_hours(minutes: int) -> str:
    """Signed decimal hours as watches expect them: ``+1``, ``+5.75``, ``-11.5``, ``0``."""
    if minutes == 0:
        return "0"
    text = f"{abs(minutes) / 60:.2f}".rstrip("0").rstrip(".")
    return ("-" if minutes < 0 else "+") + text


class WatchCommands:
    """Downlink encoder bound to one device (its id, vendor tag and index use)."""

    def __init__(self, device_id: str, *, vendor: str | None = None, use_index: bool = False) -> None:
        if not device_id or not device_id.isalnum():
            raise ValueError(f"bad device id {device_id!r}")
        self.device_id = device_id
        self.vendor = vendor or DEFAULT_VENDOR
        self.index = COMMAND_INDEX if use_index else None

    def _frame(self, content: bytes | str) -> bytes:
        return build_frame(self.vendor, self.device_id, content, self.index)

    def custom(self, text: str) -> bytes:
        """Any vendor command as raw text (e.g. ``WORK,6-9,11-13``), checked for framing characters."""
        if not text or not _SAFE_TEXT.fullmatch(text):
            raise ValueError("custom command must be non-empty and contain no '[', ']' or '*'")
        return self._frame(text)

    def locate_now(self) -> bytes:
        return self._frame("CR")

    def report_interval(self, seconds: int) -> bytes:
        if not 10 <= seconds <= 86400:
            raise ValueError("report interval must be 10..86400 s")
        return self._frame(f"UPLOAD,{seconds}")

    def sos_number(self, index: int, phone: str) -> bytes:
        if index not in (1, 2, 3):
            raise ValueError("SOS number index is 1, 2 or 3")
        return self._frame(f"SOS{index},{_phone(phone)}")

    def sos_numbers(self, *phones: str) -> bytes:
        if not 1 <= len(phones) <= 3:
            raise ValueError("one to three SOS numbers")
        return self._frame("SOS," + ",".join(_phone(p) if p else "" for p in phones))

    def center_number(self, phone: str) -> bytes:
        return self._frame(f"CENTER,{_phone(phone)}")

    def call_back(self, phone: str) -> bytes:
        """Ask the watch to call `phone` silently (listen-in, vendor `MONITOR`)."""
        return self._frame(f"MONITOR,{_phone(phone)}")

    def sos_sms(self, enabled: bool) -> bytes:
        return self._frame(f"SOSSMS,{int(enabled)}")

    def low_battery_alarm(self, enabled: bool) -> bytes:
        return self._frame(f"LOWBAT,{int(enabled)}")

    def removal_alarm(self, enabled: bool) -> bytes:
        """Turn the taken-off (`removed`) alarm on or off."""
        return self._frame(f"REMOVE,{int(enabled)}")

    def set_timezone(self, tz: int | str, language: int | None = None) -> bytes:
        """``LZ,<lang>,<hours>``; `tz` in minutes east of UTC, ``GMT+01:30`` or an IANA name."""
        lang = "" if language is None else str(int(language))
        return self._frame(f"LZ,{lang},{format_hours(tz_offset_minutes(tz))}")

    def reset(self) -> bytes:
        return self._frame("RESET")

    def power_off(self) -> bytes:
        return self._frame("POWEROFF")

    def message(self, text: str) -> bytes:
        """Text shown on the watch, as UTF-16BE hex (works for Chinese)."""
        return self._frame("MESSAGE," + text.encode("utf-16-be").hex())

    def voice_message(self, amr: bytes) -> bytes:
        """An AMR voice message; the binary is escaped."""
        return self._frame(b"TK," + escape(amr))
