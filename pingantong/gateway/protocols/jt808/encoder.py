"""JT/T 808 platform messages: replies and downlink commands (FORMATS.md §2.2–2.3).

Every platform message carries an incrementing platform serial (per session, wrapping after 0xFFFF;
Traccar always sends 0). A reply echoes the terminal number bytes as received and, for a 2019
terminal, the version byte with attribute bit 14. Care use: `locate_now` (S07/S08), `call_back`
(two-way voice, D1), `temporary_tracking` while an alarm is open (S02), `report_interval`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping

from pingantong.gateway.protocols.jt808.framing import frame
from pingantong.gateway.protocols.jt808.header import ATTR_VERSION_2019

MAX_BODY = 0x03FF
PARAM_WORD = frozenset({0x0031, 0x005B, 0x005C, 0x005D, 0x005E, 0x0081, 0x0082, 0x0101, 0x0103})
PARAM_BYTE = frozenset({0x0084, 0x0090, 0x0091, 0x0092, 0x0094})
PARAM_HEARTBEAT_S, PARAM_REPORT_INTERVAL_S, PARAM_SLEEP_INTERVAL_S = 0x0001, 0x0029, 0x0027
PARAM_PLATFORM_PHONE, PARAM_SMS_ALARM_PHONE, PARAM_MONITOR_PHONE = 0x0040, 0x0044, 0x0048
TEXT_EMERGENCY, TEXT_DISPLAY, TEXT_TTS = 0x01, 0x04, 0x08


def build_message(
    msg_id: int, phone: bytes, serial: int, body: bytes = b"", *, version: int | None = None
) -> bytes:
    """Header + body, checksummed, escaped and delimited. `version` set = 2019 header."""
    if len(body) > MAX_BODY:
        raise ValueError(f"body of {len(body)} bytes needs sub-packaging (max {MAX_BODY})")
    attr = len(body) | (ATTR_VERSION_2019 if version is not None else 0)
    head = struct.pack(">HH", msg_id, attr)
    if version is not None:
        head += bytes((version,))
    return frame(head + phone + struct.pack(">H", serial & 0xFFFF) + body)


def _gbk(text: str) -> bytes:
    return text.encode("gbk")


def _phone(phone: str) -> bytes:
    phone = phone.strip()
    if not phone or not phone.lstrip("+").isdigit() or len(phone) > 20:
        raise ValueError(f"not a phone number: {phone!r}")
    return phone.encode("ascii")


class Jt808Commands:
    """Downlink encoder bound to one terminal; `next_serial` is the session's platform counter."""

    def __init__(self, phone: bytes, next_serial: Callable[[], int], *, version: int | None = None) -> None:
        if len(phone) not in (6, 10):
            raise ValueError("terminal number field must be 6 (2013) or 10 (2019) bytes")
        self.phone = phone
        self.version = version
        self._next_serial = next_serial

    def message(self, msg_id: int, body: bytes = b"") -> bytes:
        return build_message(msg_id, self.phone, self._next_serial(), body, version=self.version)

    # replies
    def general_response(self, terminal_serial: int, msg_id: int, result: int = 0) -> bytes:
        """0x8001 platform general response."""
        return self.message(0x8001, struct.pack(">HHB", terminal_serial, msg_id, result))

    def register_response(self, terminal_serial: int, result: int = 0, auth_code: str = "") -> bytes:
        """0x8100; the auth code is only sent on success."""
        body = struct.pack(">HB", terminal_serial, result) + (_gbk(auth_code) if result == 0 else b"")
        return self.message(0x8100, body)

    # commands
    def locate_now(self) -> bytes:
        """0x8201 position query; the terminal answers with 0x0201."""
        return self.message(0x8201)

    def set_parameters(self, params: Mapping[int, int | str | bytes]) -> bytes:
        """0x8103: ints are DWORD (WORD/BYTE for the ids the standard types so), str is GBK."""
        body = bytearray((len(params),))
        for param_id, value in params.items():
            if isinstance(value, bytes):
                encoded = value
            elif isinstance(value, str):
                encoded = _gbk(value)
            elif param_id in PARAM_BYTE:
                encoded = struct.pack(">B", value)
            elif param_id in PARAM_WORD:
                encoded = struct.pack(">H", value)
            else:
                encoded = struct.pack(">I", value)
            body += struct.pack(">IB", param_id, len(encoded)) + encoded
        return self.message(0x8103, bytes(body))

    def report_interval(self, seconds: int) -> bytes:
        return self.set_parameters({PARAM_REPORT_INTERVAL_S: seconds})

    def heartbeat_interval(self, seconds: int) -> bytes:
        return self.set_parameters({PARAM_HEARTBEAT_S: seconds})

    def monitor_number(self, phone: str) -> bytes:
        """The number the terminal calls back for listen-in (param 0x0048)."""
        return self.set_parameters({PARAM_MONITOR_PHONE: _phone(phone)})

    def platform_phone(self, phone: str) -> bytes:
        """The monitoring-centre number (param 0x0040), used by many pendants as the SOS number."""
        return self.set_parameters({PARAM_PLATFORM_PHONE: _phone(phone)})

    def call_back(self, phone: str, *, listen_only: bool = False) -> bytes:
        """0x8400: make the terminal call `phone` (flag 0 normal call, 1 listen-in)."""
        return self.message(0x8400, bytes((1 if listen_only else 0,)) + _phone(phone))

    def text(self, text: str, *, flags: int = TEXT_DISPLAY | TEXT_TTS, text_type: int = 1) -> bytes:
        """0x8300 text: shown and read aloud by default; 2019 adds a text-type byte."""
        head = bytes((flags,)) + (bytes((text_type,)) if self.version is not None else b"")
        return self.message(0x8300, head + _gbk(text))

    def terminal_control(self, command: int, params: bytes = b"") -> bytes:
        """0x8105 (4 = reset, 3 = power off, 5 = factory reset; vendors use 0xF0…)."""
        return self.message(0x8105, bytes((command,)) + params)

    def reset(self) -> bytes:
        return self.terminal_control(4)

    def temporary_tracking(self, interval_s: int, validity_s: int) -> bytes:
        """0x8202: report every `interval_s` for `validity_s` (an open alarm, a search)."""
        return self.message(0x8202, struct.pack(">HI", interval_s, validity_s))

    def transparent(self, kind: int, data: bytes) -> bytes:
        """0x8900 downlink pass-through (vendor commands, e.g. Jimi 0xF0 + text)."""
        return self.message(0x8900, bytes((kind,)) + data)
