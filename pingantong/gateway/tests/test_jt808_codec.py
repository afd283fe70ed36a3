"""JT/T 808 behaviour that matters for care: SOS in every form, replies, serials, sub-packages."""

from __future__ import annotations

import struct
from datetime import UTC, datetime

import pytest

from pingantong.gateway.protocols.jt808.codec import MAX_PENDING_MESSAGES, Jt808Codec
from pingantong.gateway.protocols.jt808.encoder import build_message
from pingantong.gateway.protocols.jt808.framing import frame
from pingantong.gateway.protocols.jt808.header import luhn_digit, phone_field, terminal_id

PHONE = bytes.fromhex("013511221122")
HEARTBEAT = bytes.fromhex("7e0002000004304832546500b7ca7e")


def location_body(
    alarm: int = 0,
    status: int = 0x2,
    lat: float = 22.5,
    lon: float = 113.9,
    when: str = "240101120000",
    tlvs: bytes = b"",
) -> bytes:
    return (
        struct.pack(">IIIIhHH", alarm, status, round(lat * 1e6), round(lon * 1e6), 12, 35, 90)
        + bytes.fromhex(when)
        + tlvs
    )


def uplink(
    msg_id: int,
    body: bytes,
    serial: int = 7,
    *,
    attr_extra: int = 0,
    sub: tuple[int, int] | None = None,
    phone: bytes = PHONE,
) -> bytes:
    attr = len(body) | attr_extra | (0x2000 if sub else 0)
    head = struct.pack(">HH", msg_id, attr) + phone + struct.pack(">H", serial)
    if sub:
        head += struct.pack(">HH", *sub)
    return frame(head + body)


def test_heartbeat_gets_the_worked_example_reply() -> None:
    (decoded,) = Jt808Codec().feed(HEARTBEAT)
    assert decoded.reply == bytes.fromhex("7e80010005043048325465000000b70002004e7e")
    assert decoded.events[0].kind == "heartbeat" and decoded.events[0].device_id == "43048325465"


def test_platform_serial_increments_per_session_and_wraps() -> None:
    codec = Jt808Codec()
    first, second = codec.feed(HEARTBEAT + HEARTBEAT)
    assert first.reply[11:13] == b"\x00\x00" and second.reply[11:13] == b"\x00\x01"
    codec._serials.value = 0xFFFF
    assert codec.next_serial() == 0xFFFF and codec.next_serial() == 0
    assert codec.commands.locate_now()[11:13] == b"\x00\x01"  # the encoder counts on the same serial


def test_a_closed_sessions_codec_is_freed_without_the_cycle_collector() -> None:
    """A session's codec, its framer and its cached downlink encoder hold no reference cycle, so a
    closed connection's session is freed at once (a cycle made every reconnect storm end in a
    collection over all of them on the event loop)."""
    import gc
    import weakref

    codec = Jt808Codec()
    codec.feed(HEARTBEAT)
    codec.commands.locate_now()
    gone = weakref.ref(codec)
    gc.disable()
    try:
        del codec
        assert gone() is None
    finally:
        gc.enable()


def test_sos_bit_gives_sos_and_is_acknowledged_with_0x8001() -> None:
    (decoded,) = Jt808Codec().feed(uplink(0x0200, location_body(alarm=0b1 | 1 << 7), serial=0x42))
    event = decoded.events[0]
    assert event.alarms == ["sos", "low_battery"] and event.kind == "alarm"
    assert decoded.reply[1:3] == b"\x80\x01"
    assert decoded.reply[13:18] == bytes.fromhex("0042020000")


def test_power_cut_bit8_and_fault_bits_map_onto_the_vocabulary() -> None:
    (decoded,) = Jt808Codec().feed(uplink(0x0200, location_body(alarm=1 << 8 | 1 << 4 | 1 << 1)))
    assert decoded.events[0].alarms == ["power_cut", "fault", "other"]


def test_area_alarm_uses_the_direction_from_tlv_0x12() -> None:
    exit_tlv = bytes.fromhex("1206" + "01" + "00000009" + "01")
    (decoded,) = Jt808Codec().feed(uplink(0x0200, location_body(alarm=1 << 20, tlvs=exit_tlv)))
    assert decoded.events[0].alarms == ["geofence_exit"]


def test_time_is_gmt8_by_the_standard_and_stored_in_utc() -> None:
    (decoded,) = Jt808Codec().feed(uplink(0x0200, location_body(when="150101194257")))
    assert decoded.events[0].device_time == datetime(2015, 1, 1, 11, 42, 57, tzinfo=UTC)


def test_sos_inside_blind_area_batch_is_still_sos() -> None:
    items = [location_body(when="240101120000"), location_body(alarm=1, when="240101120100")]
    body = struct.pack(">HB", len(items), 1) + b"".join(struct.pack(">H", len(i)) + i for i in items)
    (decoded,) = Jt808Codec().feed(uplink(0x0704, body))
    assert [e.archived for e in decoded.events] == [True, True]
    assert [e.alarms for e in decoded.events] == [[], ["sos"]]
    assert decoded.events[1].kind == "alarm"
    assert decoded.reply is not None and decoded.reply[13:18] == bytes.fromhex("0007070400")


def test_sos_without_a_gps_fix_is_still_sos() -> None:
    (decoded,) = Jt808Codec().feed(uplink(0x0200, location_body(alarm=1, status=0, lat=0, lon=0)))
    event = decoded.events[0]
    assert event.alarms == ["sos"] and event.position is None and event.kind == "alarm"


def test_wearable_taken_off_and_battery_from_vendor_tlvs() -> None:
    nested = bytes.fromhex("00060089ffffefff000300a84c")
    tlvs = bytes.fromhex("30011f310109") + bytes((0xEB, len(nested))) + nested
    event = Jt808Codec().feed(uplink(0x0200, location_body(tlvs=tlvs)))[0].events[0]
    assert event.alarms == ["removed"]
    assert (event.battery_pct, event.signal_pct, event.position.satellites) == (76, 100, 9)


def test_jimi_sos_tlv_gives_sos() -> None:
    tlvs = bytes.fromhex("e8030c0100")
    event = Jt808Codec().feed(uplink(0x0200, location_body(tlvs=tlvs)))[0].events[0]
    assert event.alarms == ["sos"]


def test_truncated_tlv_is_a_warning_not_an_error() -> None:
    (decoded,) = Jt808Codec().feed(uplink(0x0200, location_body(alarm=1, tlvs=bytes.fromhex("3005ff"))))
    assert decoded.error is None and decoded.events[0].alarms == ["sos"]
    assert any("runs past" in w for w in decoded.warnings)


def test_bad_checksum_is_decoded_with_a_warning_by_default() -> None:
    data = bytearray(uplink(0x0200, location_body(alarm=1)))
    data[-2] ^= 0x55
    (decoded,) = Jt808Codec().feed(bytes(data))
    assert decoded.error is None and decoded.events[0].alarms == ["sos"]
    assert any("bad checksum" in w for w in decoded.warnings)


def test_bad_checksum_in_strict_mode_is_rejected_with_result_2() -> None:
    data = bytearray(uplink(0x0200, location_body(alarm=1), serial=9))
    data[-2] ^= 0x55
    (decoded,) = Jt808Codec(strict_checksum=True).feed(bytes(data))
    assert decoded.events == [] and "bad checksum" in decoded.error
    assert decoded.reply[13:18] == bytes.fromhex("0009020002")


def test_short_location_body_is_an_error_answered_with_result_2() -> None:
    (decoded,) = Jt808Codec().feed(uplink(0x0200, b"\x00" * 10))
    assert decoded.error and decoded.reply[-3] == 2


def test_registration_gets_0x8100_with_result_0_and_an_auth_code() -> None:
    body = (
        bytes.fromhex("002c012f")
        + b"70111"
        + b"BSJ-M7B".ljust(20, b"\x00")
        + b"0000000"
        + b"\x01"
        + "粤B88888".encode("gbk")
    )
    codec = Jt808Codec()
    (decoded,) = codec.feed(uplink(0x0100, body, serial=15))
    assert decoded.events[0].kind == "login" and decoded.events[0].extra["plate"] == "粤B88888"
    assert decoded.reply == build_message(0x8100, PHONE, 0, bytes.fromhex("000f00") + b"013511221122")
    assert codec.device_id == "13511221122"


def test_2019_authentication_and_reply_echo_the_version() -> None:
    phone = bytes.fromhex("00000866496077582164")
    body = bytes((4,)) + b"abcd" + b"866496077582164" + b"V1.0".ljust(20, b"\x00")
    head = struct.pack(">HHB", 0x0102, len(body) | 0x4000, 1) + phone + struct.pack(">H", 3)
    codec = Jt808Codec()
    (decoded,) = codec.feed(frame(head + body))
    assert decoded.events[0].extra == {
        "auth_code": "abcd",
        "imei": "866496077582164",
        "software_version": "V1.0",
    }
    assert codec.is_2019 and codec.version == 1
    assert decoded.reply == build_message(0x8001, phone, 0, bytes.fromhex("0003010200"), version=1)


def test_terminal_general_response_is_a_status_event_with_the_result() -> None:
    (decoded,) = Jt808Codec().feed(uplink(0x0001, bytes.fromhex("0005820100")))
    assert decoded.reply is None
    assert decoded.events[0].kind == "status"
    assert decoded.events[0].extra == {"ack_serial": 5, "ack_msg_id": 0x8201, "result": 0}


def test_position_reply_0x0201_is_a_position_without_an_ack() -> None:
    (decoded,) = Jt808Codec().feed(uplink(0x0201, b"\x00\x05" + location_body()))
    assert decoded.reply is None and decoded.events[0].position is not None
    assert decoded.events[0].extra["reply_serial"] == 5


def test_unknown_message_is_other_and_answered_not_supported() -> None:
    (decoded,) = Jt808Codec().feed(uplink(0x0F0F, b"\x01\x02"))
    assert decoded.events[0].kind == "other" and decoded.reply[-3] == 3


def test_logout_is_acknowledged() -> None:
    (decoded,) = Jt808Codec().feed(uplink(0x0003, b""))
    assert decoded.events[0].extra == {"logout": True} and decoded.reply[-3] == 0


def test_subpackages_are_reassembled_and_each_one_acknowledged() -> None:
    items = [location_body(alarm=1)]
    body = struct.pack(">HB", 1, 1) + b"".join(struct.pack(">H", len(i)) + i for i in items)
    parts = [body[:10], body[10:20], body[20:]]
    codec = Jt808Codec()
    frames = [codec.feed(uplink(0x0704, p, serial=20 + n, sub=(3, n + 1)))[0] for n, p in enumerate(parts)]
    assert [f.events for f in frames[:2]] == [[], []]
    assert all(f.reply is not None and f.reply[1:3] == b"\x80\x01" for f in frames)
    assert frames[2].events[0].alarms == ["sos"] and frames[2].events[0].archived


def test_incomplete_subpackages_are_bounded() -> None:
    codec = Jt808Codec()
    for msg in range(MAX_PENDING_MESSAGES + 3):
        codec.feed(uplink(0x0A00 + msg, b"x", sub=(2, 1)))
    assert len(codec._pending) == MAX_PENDING_MESSAGES


def test_garbage_and_split_reads_resynchronise() -> None:
    codec = Jt808Codec()
    stream = b"\x24\x24" + HEARTBEAT + HEARTBEAT[:5]
    frames = codec.feed(stream)
    assert frames[0].error and frames[1].events[0].kind == "heartbeat"
    assert codec.feed(HEARTBEAT[5:])[0].events[0].kind == "heartbeat"


def test_device_ids() -> None:
    assert terminal_id(bytes.fromhex("014450376202")) == "14450376202"
    assert terminal_id(bytes.fromhex("4f07788ef676")) == "868935060005020"
    assert terminal_id(bytes.fromhex("00000866496077582164")) == "866496077582164"
    assert luhn_digit("86893506000502") == "0"
    assert phone_field("868935060005020") == bytes.fromhex("4f07788ef676")
    assert phone_field("14450376202") == bytes.fromhex("014450376202")


def test_downlinks_for_care() -> None:
    codec = Jt808Codec()
    codec.feed(HEARTBEAT)  # learn the terminal; platform serial now 1
    commands = codec.commands
    phone = bytes.fromhex("043048325465")
    assert commands.locate_now() == build_message(0x8201, phone, 1)
    assert commands.report_interval(60) == build_message(
        0x8103, phone, 2, bytes.fromhex("0100000029040000003c")
    )
    assert commands.call_back("13800138000") == build_message(0x8400, phone, 3, b"\x0013800138000")
    assert commands.text("请回电", flags=0x01) == build_message(
        0x8300, phone, 4, b"\x01" + "请回电".encode("gbk")
    )
    params = commands.set_parameters({0x0029: 60, 0x0048: "13800138000"})
    assert params == build_message(
        0x8103, phone, 5, bytes.fromhex("0200000029040000003c000000480b") + b"13800138000"
    )
    assert commands.temporary_tracking(10, 600) == build_message(
        0x8202, phone, 6, bytes.fromhex("000a00000258")
    )


def test_commands_refuse_bad_phone_numbers() -> None:
    with pytest.raises(ValueError):
        Jt808Codec().commands_for("13511221122").call_back("1234;")
