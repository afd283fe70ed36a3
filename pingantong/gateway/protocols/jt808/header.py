"""JT/T 808 message header (2011/2013 and 2019) and terminal identity (FORMATS.md §2.1).

2011/2013: msgId WORD · attr WORD · phone BCD[6] · serial WORD · [total WORD, index WORD]
2019:      msgId WORD · attr WORD (bit14) · version BYTE · phone BCD[10] · serial WORD · [total, index]

The device id (public contract) is the terminal number's digits without leading zeros; when the
field is not BCD (issue #1610 in Traccar) the 6 bytes are a 48-bit IMEI without its check digit and
the Luhn digit is appended (``4f07788ef676`` → ``868935060005020``).
"""

from __future__ import annotations

import struct
from functools import lru_cache

ATTR_LENGTH_MASK = 0x03FF
ATTR_SUBPACKAGE = 1 << 13
ATTR_VERSION_2019 = 1 << 14


class Jt808FormatError(ValueError):
    """The message is too short or inconsistent to decode."""


class Jt808Header:
    """A parsed header. The flags derived from `attr` and the device id are computed once here:
    the codec asks for them several times per frame, 10,000 frames a second."""

    __slots__ = (
        "attr",
        "body_length",
        "device_id",
        "index",
        "is_2019",
        "msg_id",
        "phone",
        "serial",
        "size",
        "subpackaged",
        "total",
        "version",
    )

    def __init__(
        self,
        msg_id: int,
        attr: int,
        version: int | None,  # the 2019 protocol version byte; None for 2011/2013
        phone: bytes,  # as received (6 or 10 bytes), echoed in replies
        serial: int,
        total: int | None = None,
        index: int | None = None,
    ) -> None:
        self.msg_id = msg_id
        self.attr = attr
        self.version = version
        self.phone = phone
        self.serial = serial
        self.total = total
        self.index = index
        self.is_2019 = bool(attr & ATTR_VERSION_2019)
        self.subpackaged = bool(attr & ATTR_SUBPACKAGE)
        self.body_length = attr & ATTR_LENGTH_MASK
        self.size = (17 if self.is_2019 else 12) + (4 if self.subpackaged else 0)
        self.device_id = terminal_id(phone)

    @property
    def encryption(self) -> int:
        return self.attr >> 10 & 0x7

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Jt808Header):
            return NotImplemented
        return (self.msg_id, self.attr, self.version, self.phone, self.serial, self.total, self.index) == (
            other.msg_id,
            other.attr,
            other.version,
            other.phone,
            other.serial,
            other.total,
            other.index,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Jt808Header(msg_id=0x{self.msg_id:04X}, attr=0x{self.attr:04X}, version={self.version}, "
            f"phone={self.phone.hex()}, serial={self.serial}, total={self.total}, index={self.index})"
        )


def parse_header(message: bytes) -> Jt808Header:
    """Parse the header of an un-escaped message (without delimiters; checksum may follow)."""
    if len(message) < 4:
        raise Jt808FormatError(f"message of {len(message)} bytes is shorter than a header")
    msg_id, attr = struct.unpack_from(">HH", message)
    is_2019 = bool(attr & ATTR_VERSION_2019)
    phone_len = 10 if is_2019 else 6
    offset = 4
    version = None
    if is_2019:
        if len(message) < 5:
            raise Jt808FormatError("2019 header truncated")
        version = message[4]
        offset = 5
    need = offset + phone_len + 2 + (4 if attr & ATTR_SUBPACKAGE else 0)
    if len(message) < need:
        raise Jt808FormatError(f"header needs {need} bytes, message has {len(message)}")
    phone = bytes(message[offset : offset + phone_len])
    (serial,) = struct.unpack_from(">H", message, offset + phone_len)
    total = index = None
    if attr & ATTR_SUBPACKAGE:
        total, index = struct.unpack_from(">HH", message, offset + phone_len + 2)
    return Jt808Header(msg_id, attr, version, phone, serial, total, index)


def bcd(data: bytes) -> str:
    """Hex text of BCD bytes (``b"\\x01\\x23"`` → ``"0123"``)."""
    return data.hex()


def is_bcd(data: bytes) -> bool:
    return data.hex().isdigit()


def luhn_digit(digits: str) -> str:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


@lru_cache(maxsize=65_536)
def terminal_id(phone: bytes) -> str:
    """The contract device id for a terminal number field (cached: asked for every frame, and a
    gateway sees the same terminals all day)."""
    text = phone.hex()
    if text.isdigit():
        return text.lstrip("0") or "0"
    digits = str(int.from_bytes(phone[-6:], "big")).zfill(14)
    return digits + luhn_digit(digits)


def phone_field(device_id: str, *, is_2019: bool = False) -> bytes:
    """The inverse of `terminal_id`, for commands to a device we only know by id."""
    if not device_id.isdigit():
        raise ValueError(f"JT/T 808 device id must be digits: {device_id!r}")
    size = 10 if is_2019 else 6
    if len(device_id) <= size * 2:
        return bytes.fromhex(device_id.zfill(size * 2))
    if len(device_id) == 15 and luhn_digit(device_id[:14]) == device_id[14]:
        return int(device_id[:14]).to_bytes(6, "big").rjust(size, b"\x00")
    raise ValueError(f"device id {device_id!r} does not fit a {size}-byte terminal number")
