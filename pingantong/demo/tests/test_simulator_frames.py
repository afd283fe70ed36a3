"""The simulator's frames are what real terminals send: our own codecs decode them exactly."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pingantong.demo.simulator import frames
from pingantong.demo.simulator.fleet import Persona, make_fleet, parse_injection
from pingantong.demo.simulator.frames import Fix
from pingantong.gateway.protocols import get_codec

MOMENT = datetime(2026, 11, 28, 3, 0, 5, tzinfo=UTC)
HOME = Fix(latitude=26.263412, longitude=117.639021, satellites=9)


def decode_one(protocol: str, data: bytes):
    decoded = get_codec(protocol).feed(data)
    assert len(decoded) == 1
    assert decoded[0].error is None, decoded[0].error
    return decoded[0]


def test_watch_alarm_frame_carries_sos_position_and_time():
    frame = frames.watch_position(
        "8800000001", MOMENT, HOME, kind="AL", status=frames.WATCH_SOS | 1, steps=12
    )
    decoded = decode_one("watch", frame)
    event = decoded.events[0]
    assert event.device_id == "8800000001"
    assert {"sos", "low_battery"} <= set(event.alarms)
    assert event.position.latitude == pytest.approx(26.263412)
    assert event.position.longitude == pytest.approx(117.639021)
    assert event.device_time == MOMENT
    assert event.steps == 12
    assert decoded.reply == b"[3G*8800000001*0002*AL]"


def test_watch_vitals_frames_decode_to_vitals():
    assert decode_one("watch", frames.watch_heart("8800000001", 77)).events[0].vitals["heart_rate_bpm"] == 77
    blood = decode_one("watch", frames.watch_blood("8800000001", 135, 85, 70)).events[0].vitals
    assert (blood["bp_systolic_mmhg"], blood["bp_diastolic_mmhg"]) == (135, 85)


def test_jt808_location_with_sos_decodes_with_gmt8_time():
    frame = frames.jt808_location("13912345678", 7, MOMENT, HOME, alarm=frames.JT_SOS, battery=55, signal=20)
    decoded = decode_one("jt808", frame)
    event = decoded.events[0]
    assert event.device_id == "13912345678"
    assert "sos" in event.alarms
    assert event.device_time == MOMENT
    assert event.position.latitude == pytest.approx(26.263412)
    assert decoded.reply is not None  # 0x8001 general response


def test_jt808_blind_batch_keeps_sos_and_is_archived():
    bodies = [
        frames.jt808_location_body(MOMENT, HOME),
        frames.jt808_location_body(MOMENT, HOME, alarm=frames.JT_SOS),
    ]
    decoded = decode_one("jt808", frames.jt808_blind_batch("13912345678", 9, bodies))
    assert len(decoded.events) == 2
    assert all(e.archived for e in decoded.events)
    assert "sos" in decoded.events[1].alarms


def test_jt808_register_is_answered_with_8100():
    decoded = decode_one("jt808", frames.jt808_register("13912345678", 1))
    message_id, body = frames.parse_jt808_reply(decoded.reply)
    assert message_id == 0x8100
    assert body[2] == 0  # result: success


def test_same_seed_same_fleet_and_routes():
    first, second = make_fleet(6, seed=42), make_fleet(6, seed=42)
    assert first == second
    assert make_fleet(6, seed=43) != first
    route_a = [Persona(first[0], 42).position(MOMENT) for _ in range(1)]
    route_b = [Persona(second[0], 42).position(MOMENT) for _ in range(1)]
    assert route_a == route_b


def test_injection_syntax_is_checked():
    injection = parse_injection("sos@3:20")
    assert (injection.kind, injection.device_index, injection.after_s) == ("sos", 3, 20.0)
    with pytest.raises(ValueError, match="unknown event"):
        parse_injection("party@1:2")
