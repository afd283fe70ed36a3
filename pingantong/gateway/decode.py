"""`decode_stream`: the engine of the public `decode` command (docs/architecture.md, contracts).

Output, exactly: ``{"frames": [{"events": [...], "reply": text|null, "reply_hex": hex|null}],
"errors": [...]}``. Each malformed frame (and each warning such as a bad JT/T 808 checksum) adds a
line to ``errors``; a malformed frame still appears in ``frames`` (with whatever could be salvaged
and its reply, if the protocol answers errors), so frame positions line up with the input.
``reply`` is the reply as text when it is printable ASCII (watch) and null otherwise (JT/T 808).
"""

from __future__ import annotations

import re
from typing import Any

from pingantong.gateway.protocols import get_codec

_TZ = re.compile(r"([+-])(\d{2}):?(\d{2})")


class TzFormatError(ValueError):
    """A `--tz` value that is not ``Z`` or ``±HH:MM``."""


def parse_tz(value: str) -> int:
    """``+08:00`` → 480, ``-05:30`` → -330, ``Z``/``UTC``/``+00:00`` → 0 (minutes east of UTC)."""
    text = value.strip()
    if text.upper() in ("Z", "UTC"):
        return 0
    match = _TZ.fullmatch(text)
    if not match:
        raise TzFormatError(f"bad time zone {value!r}: use Z or ±HH:MM, e.g. +08:00")
    sign, hours, minutes = match.groups()
    if int(hours) > 14 or int(minutes) > 59:
        raise TzFormatError(f"time zone {value!r} is out of range")
    total = int(hours) * 60 + int(minutes)
    return -total if sign == "-" else total


def _reply_text(reply: bytes) -> str | None:
    return reply.decode("ascii") if reply.isascii() and reply.decode("ascii").isprintable() else None


def decode_stream(protocol: str, data: bytes, tz: str = "+08:00") -> dict[str, Any]:
    """Decode a captured byte stream as one connection would see it. Raises only on wrong usage
    (unknown protocol, bad `tz`); malformed input is reported in ``errors``."""
    codec = get_codec(protocol, tz_offset_minutes=parse_tz(tz))
    frames: list[dict[str, Any]] = []
    errors: list[str] = []
    for number, frame in enumerate(codec.feed(data), start=1):
        frames.append(
            {
                "events": [event.to_json() for event in frame.events],
                "reply": _reply_text(frame.reply) if frame.reply else None,
                "reply_hex": frame.reply.hex() if frame.reply else None,
            }
        )
        if frame.error:
            errors.append(f"frame {number}: {frame.error}")
        errors.extend(f"frame {number}: warning: {warning}" for warning in frame.warnings)
    if codec.buffered:
        errors.append(f"incomplete frame at end of input ({codec.buffered} bytes)")
    return {"frames": frames, "errors": errors}
