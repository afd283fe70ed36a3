"""Watch protocol behaviour that matters for care: alarms, time zones, replies, framing, downlinks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pingantong.gateway.protocols.watch.codec import WatchCodec
from pingantong.gateway.protocols.watch.encoder import WatchCommands, format_hours, tz_offset_minutes

AL_SOS_AND_LOW_BATTERY = (
    b"[SG*8800000015*0087*AL,220414,134652,A,22.571707,N,113.8613968,E,0.1,0.0,100,7,60,90,1000,50,"
    b"00010001,4,1,460,0,9360,4082,131,9360,4092,148]"
)


def _one(codec: WatchCodec, data: bytes):
    frames = codec.feed(data)
    assert len(frames) == 1, frames
    return frames[0]


def test_al_frame_with_sos_and_low_battery_keeps_sos() -> None:
    frame = _one(WatchCodec(), AL_SOS_AND_LOW_BATTERY)
    event = frame.events[0]
    assert event.kind == "alarm"
    assert event.alarms == ["sos", "low_battery"]
    assert frame.reply == b"[SG*8800000015*0002*AL]"


def test_every_status_bit_is_reported_not_only_the_first() -> None:
    status = (1 << 16) | (1 << 20) | (1 << 21) | (1 << 14) | (1 << 1) | (1 << 19)
    data = f"[3G*1234567890*0040*UD,010124,000000,A,22.5,N,113.9,E,0,0,0,5,80,50,0,0,{status:08X}]".encode()
    event = _one(WatchCodec(), data).events[0]
    assert event.alarms == ["sos", "fall", "removed", "power_cut", "geofence_exit", "geofence_enter"]
    assert event.kind == "alarm"


def test_al_frame_without_a_mapped_bit_is_still_an_alarm_of_type_other() -> None:
    data = b"[3G*1234567890*0040*AL,010124,000000,V,0,N,0,E,0,0,0,0,80,50,0,0,00000008]"
    event = _one(WatchCodec(), data).events[0]
    assert (event.kind, event.alarms) == ("alarm", ["other"])


def test_al_frame_with_a_broken_body_still_raises_an_alarm_and_is_acknowledged() -> None:
    frame = _one(WatchCodec(), b"[3G*1234567890*0004*AL,xx]")
    assert frame.error and "malformed" in frame.error
    assert frame.events[0].alarms == ["other"]
    assert frame.reply == b"[3G*1234567890*0002*AL]"


def test_al_lte_is_answered_with_the_literal_al() -> None:
    data = b"[3G*6907919734*003e*AL_LTE,170525,214118,V,0,N,0,E,0,0,0,0,0,22,0,0,00010000,0,0,0]"
    frame = _one(WatchCodec(), data)
    assert frame.reply == b"[3G*6907919734*0002*AL]"
    assert frame.events[0].message == "AL_LTE" and frame.events[0].alarms == ["sos"]


def test_device_time_is_read_in_the_device_zone_and_stored_in_utc() -> None:
    data = b"[3G*1*0030*UD,220414,134652,A,22.571707,N,113.8613968,E,0,0,0,7,60,90,0,0,00000000]"
    beijing = _one(WatchCodec(), data).events[0]
    assert beijing.device_time == datetime(2014, 4, 22, 5, 46, 52, tzinfo=UTC)
    utc_watch = _one(WatchCodec(tz_offset_minutes=0), data).events[0]
    assert utc_watch.device_time == datetime(2014, 4, 22, 13, 46, 52, tzinfo=UTC)
    assert beijing.to_json()["device_time"] == "2014-04-22T05:46:52Z"


def test_v_record_at_zero_zero_gives_no_position_but_keeps_cells_for_lbs() -> None:
    data = (
        b"[3G*8809008845*00C0*UD,271219,094744,V,00.000000,N, 0.0000000,E,0.00,0.0,0.0,0,100,81,0,0,"
        b"00000000,2,0,460,0,9336,3981,141,9336,3912,141,0,0.0]"
    )
    event = _one(WatchCodec(), data).events[0]
    assert event.position is None
    assert event.extra["cells"][0] == {"mcc": 460, "mnc": 0, "lac": 9336, "cid": 3981, "rssi": 141}


def test_hex_cell_ids_are_parsed_as_hex() -> None:
    data = (
        b"[SG*9059011020*0067*UD,240123,181628,V,54.427538,N,6.409275,W,0.00,0,0,0,19,90,0,0,"
        b"00000000,1,1,234,10,55C0,3B882A2,132,,10]"
    )
    event = _one(WatchCodec(), data).events[0]
    assert event.extra["cells"] == [{"mcc": 234, "mnc": 10, "lac": 0x55C0, "cid": 0x3B882A2, "rssi": 132}]
    assert event.position is not None and event.position.longitude == pytest.approx(-6.409275)


def test_ud2_is_archived_blind_area_data() -> None:
    data = b"[3G*1*0030*UD2,220414,134652,A,22.5,N,113.8,E,0,0,0,7,60,90,0,0,00000000]"
    assert _one(WatchCodec(), data).events[0].archived is True


def test_lk_is_answered_and_carries_steps_and_battery() -> None:
    frame = _one(WatchCodec(), b"[3G*4700186508*000B*LK,120,10,85]")
    assert frame.reply == b"[3G*4700186508*0002*LK]"
    event = frame.events[0]
    assert (event.kind, event.steps, event.battery_pct) == ("heartbeat", 120, 85)


def test_index_is_echoed_in_replies_and_used_in_commands() -> None:
    codec = WatchCodec()
    frame = _one(codec, b"[ZJ*014111001350304*0034*0009*LK,0,0,19]")
    assert frame.reply == b"[ZJ*014111001350304*0034*0002*LK]"
    assert codec.uses_index and codec.vendor == "ZJ" and codec.device_id == "014111001350304"
    assert codec.commands.locate_now() == b"[ZJ*014111001350304*0001*0002*CR]"


@pytest.mark.parametrize(
    ("message", "reply"),
    [(b"INIT,13800138000,1,1", b"INIT,1"), (b"TKQ", b"TKQ"), (b"TKQ2", b"TKQ2")],
)
def test_messages_with_mandatory_replies(message: bytes, reply: bytes) -> None:
    frame = _one(WatchCodec(), b"[3G*1234567890*0003*" + message + b"]")
    assert frame.reply == b"[3G*1234567890*" + f"{len(reply):04x}".encode() + b"*" + reply + b"]"


@pytest.mark.parametrize(
    ("content", "vitals"),
    [
        (b"PULSE,72", {"heart_rate_bpm": 72}),
        (b"heart,0", {}),
        (b"bphrt,120,79,73,,,,", {"bp_systolic_mmhg": 120, "bp_diastolic_mmhg": 79, "heart_rate_bpm": 73}),
        (b"BLOOD,109,68", {"bp_systolic_mmhg": 109, "bp_diastolic_mmhg": 68}),
        (b"TEMP,36.5", {"body_temp_c": 36.5}),
        (b"btemp2,1,35.29", {"body_temp_c": 35.29}),
        (b"btemp2,0,35.29", {}),
        (b"oxygen,0,98", {"spo2_pct": 98}),
    ],
)
def test_health_messages_give_only_the_vitals_present(content: bytes, vitals: dict) -> None:
    event = _one(WatchCodec(), b"[3G*1234567890*0010*" + content + b"]").events[0]
    assert event.kind == "vitals"
    assert event.vitals == vitals
    assert event.to_json()["vitals"] == vitals


def test_split_and_merged_reads_give_the_same_frames() -> None:
    stream = b"[3G*1*000B*LK,0,10,100]" + AL_SOS_AND_LOW_BATTERY + b"[3G*1*0003*TKQ]"
    whole = [f.events[0].message for f in WatchCodec().feed(stream)]
    codec = WatchCodec()
    pieces = [f.events[0].message for i in range(0, len(stream), 7) for f in codec.feed(stream[i : i + 7])]
    assert whole == pieces == ["LK", "AL", "TKQ"]


def test_nested_brackets_in_an_ssid_do_not_end_the_frame() -> None:
    data = b"[3G*1*0050*UD,120623,140020,A,48.9,N,4.3,E,0,0,0,12,100,76,0,0,00000000,0,1,[LG A/C]e7,66:a1:ed:e1:e7:25,-82]"
    frame = _one(WatchCodec(), data)
    assert frame.error is None and frame.events[0].extra["wifi"][0]["ssid"] == "[LG A/C]e7"


def test_garbage_and_a_truncated_frame_are_reported_and_decoding_resumes() -> None:
    codec = WatchCodec()
    frames = codec.feed(b"\x00\x01junk[3G*1*0002*LK[3G*1*0002*LK]")
    assert [f.error is not None for f in frames] == [True, True, False]
    assert frames[2].reply == b"[3G*1*0002*LK]"


def test_oversized_frame_is_dropped_and_the_next_frame_decodes() -> None:
    codec = WatchCodec()
    frames = codec.feed(b"[3G*1*0002*UD," + b"9" * 40000 + b"][3G*1*0002*LK]")
    assert frames[0].error and "exceeds" in frames[0].error
    assert frames[-1].events[0].message == "LK"


def test_invalid_escape_is_reported_not_raised() -> None:
    frame = _one(WatchCodec(), b"[CS*1234567890*0005*TK,}\x09]")
    assert frame.error and "invalid escape" in frame.error


def test_commands_before_any_frame_need_a_device_id() -> None:
    with pytest.raises(LookupError):
        WatchCodec().commands  # noqa: B018


def test_downlinks_for_care() -> None:
    commands = WatchCommands("8800000015", vendor="3G")
    assert commands.locate_now() == b"[3G*8800000015*0002*CR]"
    assert commands.report_interval(300) == b"[3G*8800000015*000a*UPLOAD,300]"
    assert commands.sos_numbers("13800138000", "", "110") == b"[3G*8800000015*0014*SOS,13800138000,,110]"
    assert commands.call_back("13800138000") == b"[3G*8800000015*0013*MONITOR,13800138000]"
    assert commands.removal_alarm(True) == b"[3G*8800000015*0008*REMOVE,1]"
    assert commands.power_off() == b"[3G*8800000015*0008*POWEROFF]"
    assert commands.message("你好") == b"[3G*8800000015*0010*MESSAGE,4f60597d]"
    assert commands.set_timezone(480, 1) == b"[3G*8800000015*0007*LZ,1,+8]"


def test_commands_refuse_input_that_would_break_the_framing() -> None:
    commands = WatchCommands("8800000015")
    with pytest.raises(ValueError):
        commands.sos_number(1, "123]*[")
    with pytest.raises(ValueError):
        commands.custom("WORK]")


@pytest.mark.parametrize(
    ("tz", "minutes", "text"),
    [
        ("Asia/Shanghai", 480, "+8"),
        ("Asia/Kathmandu", 345, "+5.75"),
        ("GMT-11:30", -690, "-11.5"),
        (0, 0, "0"),
    ],
)
def test_timezone_offsets(tz: int | str, minutes: int, text: str) -> None:
    assert tz_offset_minutes(tz) == minutes
    assert format_hours(minutes) == text
