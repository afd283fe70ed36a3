"""Real-socket tests of the JT/T 808 listener: a simulated terminal registers, authenticates, sends
positions (one with the SOS bit) and a blind-area batch; each reply arrives after the commit."""

from __future__ import annotations

import struct

import pytest

from pingantong.devices.actions import register_device
from pingantong.devices.models import DeviceEventRecord, DeviceState, PositionRecord, RawFrame
from pingantong.gateway.protocols.jt808.encoder import build_message
from pingantong.gateway.protocols.jt808.framing import unescape
from pingantong.gateway.tests.gwtools import (
    Terminal,
    durable_before_ack,
    ensure_reference_data,
    running_gateway,
)
from pingantong.testing.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = bytes.fromhex("013912345678")  # terminal number 13912345678
IDENTITY = "13912345678"


@pytest.fixture(autouse=True)
def _reference_data():
    ensure_reference_data()


def location_body(
    *, alarm: int = 0, lat: float = 26.263406, lon: float = 117.639612, when: str = "260828101010"
) -> bytes:
    status = 0x2  # fix valid, north, east
    body = struct.pack(">IIIIHHH", alarm, status, int(lat * 1e6), int(lon * 1e6), 120, 0, 90)
    body += bytes.fromhex(when)
    body += bytes((0x01, 4)) + struct.pack(">I", 10)  # mileage TLV
    return body


def msg(msg_id: int, serial: int, body: bytes = b"") -> bytes:
    return build_message(msg_id, PHONE, serial, body)


def reply_fields(frame: bytes) -> tuple[int, int, bytes]:
    """(message id, platform serial, body) of a platform reply."""
    data, _warnings = unescape(frame[1:-1])
    msg_id, attr = struct.unpack_from(">HH", data)
    serial = struct.unpack_from(">H", data, 10)[0]
    return msg_id, serial, data[12 : 12 + (attr & 0x3FF)]


def test_jt808_terminal_registers_reports_and_sos_is_stored_before_ack():
    device = register_device(protocol="jt808", identity=IDENTITY, device_type="jt808_tracker")
    with running_gateway() as (gateway, ports, lt):
        term = Terminal(ports["jt808"])
        register_body = (
            struct.pack(">HH", 35, 400) + b"MAKER" + b"MODEL".ljust(20, b"\0") + b"ID00001" + b"\x00"
        )
        term.send(msg(0x0100, 1, register_body))
        msg_id, serial0, body = reply_fields(term.read_frame_7e())
        assert msg_id == 0x8100
        assert struct.unpack_from(">HB", body) == (1, 0)  # echoes our serial, result success
        auth_code = body[3:]

        term.send(msg(0x0102, 2, auth_code))
        msg_id, serial1, body = reply_fields(term.read_frame_7e())
        assert msg_id == 0x8001 and struct.unpack(">HHB", body) == (2, 0x0102, 0)
        assert serial1 == (serial0 + 1) & 0xFFFF  # the platform serial increments

        term.send(msg(0x0200, 3, location_body()))
        msg_id, _s, body = reply_fields(term.read_frame_7e())
        assert struct.unpack(">HHB", body) == (3, 0x0200, 0)
        assert PositionRecord.objects.filter(device=device).count() == 1

        term.send(msg(0x0200, 4, location_body(alarm=0x1, when="260828101500")))
        msg_id, _s, body = reply_fields(term.read_frame_7e())
        assert struct.unpack(">HHB", body) == (4, 0x0200, 0)
        # An SOS is acknowledged once durable: on SQLite in the urgent journal, in the database
        # moments later (decision 0130); on PostgreSQL in the database itself.
        stored = DeviceEventRecord.objects.filter(device=device, serial=4)
        assert durable_before_ack(gateway.ingestor, stored, lambda e: e.serial == 4)
        wait_for(stored.exists)
        sos = stored.get()
        assert sos.alarms == ["sos"]

        # A blind-area batch holding an SOS: stored as archived, still an SOS, before the ACK.
        item = location_body(alarm=0x1, when="260828090000")
        batch = struct.pack(">HB", 1, 1) + struct.pack(">H", len(item)) + item
        term.send(msg(0x0704, 5, batch))
        msg_id, _s, body = reply_fields(term.read_frame_7e())
        assert struct.unpack(">HHB", body) == (5, 0x0704, 0)
        stored = DeviceEventRecord.objects.filter(device=device, message="0x0704")
        assert durable_before_ack(gateway.ingestor, stored, lambda e: e.message == "0x0704")
        wait_for(stored.exists)
        archived = stored.get()
        assert archived.archived and archived.alarms == ["sos"]
        term.close()
        lt.run(gateway.ingestor.drain_rules())
    assert RawFrame.objects.filter(device=device).count() == 5
    state = DeviceState.objects.get(device=device)
    # The blind-area fix (09:00) is older than the live one (10:15): it does not move the device back.
    assert state.position_at is not None and state.position_at.hour == 2 and state.position_at.minute == 15
    assert state.last_life_sign_source == "sos"


def test_jt808_split_and_merged_reads_are_answered_in_order():
    register_device(protocol="jt808", identity=IDENTITY, device_type="jt808_tracker")
    with running_gateway() as (_gateway, ports, _lt):
        term = Terminal(ports["jt808"])
        stream = msg(0x0002, 10) + msg(0x0200, 11, location_body()) + msg(0x0002, 12)
        term.send(stream[:7])
        term.send(stream[7:])
        serials = [struct.unpack_from(">H", reply_fields(term.read_frame_7e())[2])[0] for _ in range(3)]
        assert serials == [10, 11, 12]
        term.close()
