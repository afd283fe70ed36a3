"""Stream framing for the watch protocol: `[` … `]` by counted brackets, `}`-escapes, 32 KiB cap.

The length field is wrong in about a third of real frames, so frames are found by brackets only
(FORMATS.md §1.1–1.2). Brackets are counted because an SSID such as ``[LG_Wall-Mount A/C]`` can
appear inside the content. Resynchronisation after garbage or a truncated frame:

* bytes before a ``[`` are discarded (whitespace silently, anything else reported once);
* a ``[`` inside an open frame that starts a new header (``[XX*ID*``) means the open frame was cut
  short: it is reported as malformed and decoding restarts at the new header;
* a frame that grows past `MAX_FRAME_SIZE` is reported and dropped, restarting at the next ``[``.

Decisions are only taken once enough bytes are available, so a stream split at any byte boundary
frames exactly like the whole stream (tested with hypothesis).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_FRAME_SIZE = 32 * 1024
OPEN, CLOSE, ESCAPE = 0x5B, 0x5D, 0x7D
UNESCAPE: dict[int, int] = {0x01: 0x7D, 0x02: 0x5B, 0x03: 0x5D, 0x04: 0x2C, 0x05: 0x2A}
ESCAPE_MAP: dict[int, bytes] = {value: bytes((ESCAPE, code)) for code, value in UNESCAPE.items()}
_BRACKET = re.compile(rb"[\[\]]")
_WHITESPACE = frozenset(b" \t\r\n\x00")
_ID_MAX = 24


class EscapeError(ValueError):
    """A `}` followed by something other than 01–05 (Traccar throws; we report the frame)."""


@dataclass(slots=True, frozen=True)
class RawFrame:
    """One unit cut from the stream: a frame (`data` un-escaped) or rejected bytes (`error`)."""

    raw: bytes
    data: bytes | None
    error: str | None = None


def escape(payload: bytes) -> bytes:
    """Escape binary payload bytes (`TK` voice, images) for sending inside a frame."""
    return b"".join(ESCAPE_MAP.get(b, bytes((b,))) for b in payload)


def unescape(frame: bytes) -> bytes:
    """Undo the `}` escapes of a whole frame; raises `EscapeError` on an unknown escape."""
    if ESCAPE not in frame:
        return frame
    out = bytearray()
    i, n = 0, len(frame)
    while i < n:
        b = frame[i]
        if b == ESCAPE:
            code = frame[i + 1] if i + 1 < n else None
            if code not in UNESCAPE:
                shown = "end of frame" if code is None else f"0x{code:02x}"
                raise EscapeError(f"invalid escape 0x7d followed by {shown} at offset {i}")
            out.append(UNESCAPE[code])
            i += 2
            continue
        out.append(b)
        i += 1
    return bytes(out)


def _starts_header(buf: bytearray, i: int) -> bool | None:
    """Does ``buf[i:]`` (a ``[``) start a frame header ``[XX*ID*``? None: not enough bytes yet."""
    n = len(buf)
    for offset in (1, 2):
        if i + offset >= n:
            return None
        if not chr(buf[i + offset]).isalnum() or buf[i + offset] > 0x7F:
            return False
    if i + 3 >= n:
        return None
    if buf[i + 3] != 0x2A:
        return False
    j = i + 4
    while j < n and j - (i + 4) <= _ID_MAX:
        b = buf[j]
        if b == 0x2A:
            return j > i + 4
        if not (0x30 <= b <= 0x39 or 0x41 <= b <= 0x5A or 0x61 <= b <= 0x7A):
            return False
        j += 1
    return None if j >= n else False


class WatchFramer:
    """Cuts a TCP byte stream into frames; keeps the unfinished tail between `feed` calls."""

    def __init__(self, max_frame_size: int = MAX_FRAME_SIZE) -> None:
        self.max_frame_size = max_frame_size
        self._buf = bytearray()
        self._scan = 1  # where to continue scanning inside the open frame
        self._depth = 1

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> list[RawFrame]:
        self._buf += data
        out: list[RawFrame] = []
        while self._buf:
            if self._buf[0] != OPEN:
                if not self._skip_garbage(out):
                    break
                continue
            if not self._scan_frame(out):
                break
        return out

    def _restart(self, drop: int) -> None:
        del self._buf[:drop]
        self._scan, self._depth = 1, 1

    def _skip_garbage(self, out: list[RawFrame]) -> bool:
        start = self._buf.find(OPEN)
        if start < 0:
            if len(self._buf) <= self.max_frame_size:
                return False  # wait: the garbage may continue; report it once, when it ends
            start = len(self._buf)
        garbage = bytes(self._buf[:start])
        if any(b not in _WHITESPACE for b in garbage):
            out.append(RawFrame(garbage, None, f"discarded {len(garbage)} bytes outside any frame"))
        self._restart(start)
        return True

    def _scan_frame(self, out: list[RawFrame]) -> bool:
        buf = self._buf
        limit = min(len(buf), self.max_frame_size)
        while True:
            match = _BRACKET.search(buf, self._scan, limit)
            if match is None:
                if len(buf) >= self.max_frame_size:
                    return self._oversize(out)
                self._scan = max(self._scan, limit)
                return False
            i = match.start()
            if buf[i] == CLOSE:
                self._depth -= 1
                if self._depth == 0:
                    raw = bytes(buf[: i + 1])
                    self._restart(i + 1)
                    out.append(_unescaped(raw))
                    return True
            else:
                starts = _starts_header(buf, i)
                if starts is None:
                    self._scan = i
                    return False
                if starts:
                    raw = bytes(buf[:i])
                    out.append(RawFrame(raw, None, "truncated frame: a new frame started before ']'"))
                    self._restart(i)
                    return True
                self._depth += 1
            self._scan = i + 1

    def _oversize(self, out: list[RawFrame]) -> bool:
        next_open = self._buf.find(OPEN, 1)
        drop = next_open if next_open > 0 else len(self._buf)
        raw = bytes(self._buf[:drop])
        out.append(RawFrame(raw[:64], None, f"frame exceeds {self.max_frame_size} bytes; dropped {drop}"))
        self._restart(drop)
        return True


def _unescaped(raw: bytes) -> RawFrame:
    try:
        return RawFrame(raw, unescape(raw))
    except EscapeError as exc:
        return RawFrame(raw, None, str(exc))
