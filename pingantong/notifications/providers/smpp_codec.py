"""SMPP 3.4 PDUs, sans-IO: bytes in, PDUs out; PDUs in, bytes out. No sockets, no clock.

Every PDU is a 16-byte header (command_length, command_id, command_status, sequence_number, all
big-endian uint32) and a body of C-strings, single octets and optional TLVs. Chinese text goes as
UCS-2 (data_coding 0x08); text longer than one short_message (140 octets) goes in the
message_payload TLV (0x0424). Delivery receipts come back as deliver_sm with esm_class 0x04 and the
conventional text `id:… sub:… dlvrd:… submit date:… done date:… stat:DELIVRD err:000 text:…`.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

BIND_RECEIVER = 0x00000001
BIND_TRANSMITTER = 0x00000002
SUBMIT_SM = 0x00000004
DELIVER_SM = 0x00000005
UNBIND = 0x00000006
BIND_TRANSCEIVER = 0x00000009
ENQUIRE_LINK = 0x00000015
GENERIC_NACK = 0x80000000
RESP = 0x80000000

ESME_ROK = 0x00
ESME_RINVMSGLEN = 0x01
ESME_RINVCMDID = 0x03
ESME_RALYBND = 0x05
ESME_RSYSERR = 0x08
ESME_RBINDFAIL = 0x0D
ESME_RINVPASWD = 0x0E
ESME_RINVSYSID = 0x0F
ESME_RMSGQFUL = 0x14
ESME_RTHROTTLED = 0x58

STATUS_NAMES = {
    ESME_ROK: "ESME_ROK",
    ESME_RINVMSGLEN: "ESME_RINVMSGLEN",
    ESME_RINVCMDID: "ESME_RINVCMDID",
    ESME_RALYBND: "ESME_RALYBND",
    ESME_RSYSERR: "ESME_RSYSERR",
    ESME_RBINDFAIL: "ESME_RBINDFAIL",
    ESME_RINVPASWD: "ESME_RINVPASWD",
    ESME_RINVSYSID: "ESME_RINVSYSID",
    ESME_RMSGQFUL: "ESME_RMSGQFUL",
    ESME_RTHROTTLED: "ESME_RTHROTTLED",
}
TRANSIENT_STATUSES = {ESME_RTHROTTLED, ESME_RMSGQFUL, ESME_RSYSERR}

TLV_MESSAGE_PAYLOAD = 0x0424
TLV_RECEIPTED_MESSAGE_ID = 0x001E
MAX_PDU = 64 * 1024
HEADER = struct.Struct(">IIII")


class PduError(ValueError):
    """A malformed PDU or stream."""


@dataclass(frozen=True)
class Pdu:
    command_id: int
    status: int
    sequence: int
    body: bytes = b""

    @property
    def status_name(self) -> str:
        return STATUS_NAMES.get(self.status, f"0x{self.status:08X}")


def encode(pdu: Pdu) -> bytes:
    return HEADER.pack(HEADER.size + len(pdu.body), pdu.command_id, pdu.status, pdu.sequence) + pdu.body


class PduReader:
    """Splits a TCP byte stream into PDUs; tolerates split and merged reads."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Pdu]:
        self._buffer += data
        pdus = []
        while len(self._buffer) >= HEADER.size:
            length, command_id, status, sequence = HEADER.unpack_from(self._buffer)
            if length < HEADER.size or length > MAX_PDU:
                raise PduError(f"command_length {length} out of range")
            if len(self._buffer) < length:
                break
            pdus.append(Pdu(command_id, status, sequence, bytes(self._buffer[HEADER.size : length])))
            del self._buffer[:length]
        return pdus


def cstr(value: str) -> bytes:
    return value.encode("ascii") + b"\x00"


class BodyReader:
    def __init__(self, body: bytes) -> None:
        self.body = body
        self.pos = 0

    def cstring(self) -> str:
        end = self.body.find(b"\x00", self.pos)
        if end < 0:
            raise PduError("unterminated C-string")
        value = self.body[self.pos : end].decode("ascii", errors="replace")
        self.pos = end + 1
        return value

    def octet(self) -> int:
        if self.pos >= len(self.body):
            raise PduError("body too short")
        value = self.body[self.pos]
        self.pos += 1
        return value

    def octets(self, n: int) -> bytes:
        if self.pos + n > len(self.body):
            raise PduError("body too short")
        value = self.body[self.pos : self.pos + n]
        self.pos += n
        return value

    def tlvs(self) -> dict[int, bytes]:
        result = {}
        while self.pos + 4 <= len(self.body):
            tag, length = struct.unpack_from(">HH", self.body, self.pos)
            self.pos += 4
            result[tag] = self.octets(length)
        return result


def bind_body(system_id: str, password: str, system_type: str = "") -> bytes:
    return cstr(system_id) + cstr(password) + cstr(system_type) + bytes([0x34, 0, 0]) + cstr("")


def parse_bind(body: bytes) -> tuple[str, str]:
    reader = BodyReader(body)
    return reader.cstring(), reader.cstring()


def submit_sm_body(*, source: str, destination: str, text: str, registered_delivery: int = 1) -> bytes:
    """submit_sm in UCS-2, asking for a delivery receipt (registered_delivery=1)."""
    payload = text.encode("utf-16-be")
    head = (
        cstr("")  # service_type
        + bytes([0x05, 0x00])
        + cstr(source)  # alphanumeric source, or a short code
        + bytes([0x01, 0x01])
        + cstr(destination)  # international, E.164
        + bytes([0x00, 0x00, 0x00])  # esm_class, protocol_id, priority_flag
        + cstr("")
        + cstr("")  # schedule_delivery_time, validity_period
        + bytes([registered_delivery, 0x00, 0x08, 0x00])  # replace_if_present, data_coding UCS2, sm_default
    )
    if len(payload) <= 140:
        return head + bytes([len(payload)]) + payload
    return head + bytes([0]) + struct.pack(">HH", TLV_MESSAGE_PAYLOAD, len(payload)) + payload


@dataclass(frozen=True)
class ShortMessage:
    source: str
    destination: str
    esm_class: int
    registered_delivery: int
    data_coding: int
    text: str
    tlvs: dict[int, bytes]


def parse_sm(body: bytes) -> ShortMessage:
    """Parse a submit_sm or deliver_sm body (they share a layout)."""
    r = BodyReader(body)
    r.cstring()
    r.octet(), r.octet()
    source = r.cstring()
    r.octet(), r.octet()
    destination = r.cstring()
    esm_class = r.octet()
    r.octet(), r.octet()
    r.cstring(), r.cstring()
    registered_delivery = r.octet()
    r.octet()
    data_coding = r.octet()
    r.octet()
    raw = r.octets(r.octet())
    tlvs = r.tlvs()
    if not raw and TLV_MESSAGE_PAYLOAD in tlvs:
        raw = tlvs[TLV_MESSAGE_PAYLOAD]
    text = raw.decode("utf-16-be", errors="replace") if data_coding == 0x08 else raw.decode("latin-1")
    return ShortMessage(source, destination, esm_class, registered_delivery, data_coding, text, tlvs)


def deliver_sm_body(
    *, source: str, destination: str, text: str, esm_class: int = 0x04, receipted_id: str = ""
) -> bytes:
    """deliver_sm as an SMSC sends it (a delivery receipt when esm_class is 0x04)."""
    raw = text.encode("latin-1")
    body = (
        cstr("")
        + bytes([0x01, 0x01])
        + cstr(source)
        + bytes([0x05, 0x00])
        + cstr(destination)
        + bytes([esm_class, 0, 0])
        + cstr("")
        + cstr("")
        + bytes([0, 0, 0, 0])
        + bytes([len(raw)])
        + raw
    )
    if receipted_id:
        value = cstr(receipted_id)
        body += struct.pack(">HH", TLV_RECEIPTED_MESSAGE_ID, len(value)) + value
    return body


RECEIPT = re.compile(r"(\w[\w ]*?):(\S*)")


def parse_receipt_text(text: str) -> dict[str, str]:
    """`id:123 sub:001 dlvrd:001 submit date:2611281200 done date:2611281201 stat:DELIVRD err:000`."""
    head = text.split(" text:", 1)[0]
    return {key.strip().lower(): value for key, value in RECEIPT.findall(head)}
