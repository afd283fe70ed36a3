"""Every captured device message of shared/protocols (Traccar's test vectors) as a golden test.

Rows with explicit values are asserted exactly (positions, attributes mapped onto our contract,
frames, replies, downlinks). Attributes that Traccar extracts for vehicle or vendor-specific
models and that the care platform does not use are listed in `NOT_EXTRACTED` with the reason;
those rows must still decode without error.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pingantong.gateway.events import DeviceEvent
from pingantong.gateway.protocols import get_codec
from pingantong.gateway.protocols.jt808.codec import Jt808Codec
from pingantong.gateway.protocols.jt808.framing import Jt808Framer, escape
from pingantong.gateway.protocols.watch.encoder import WatchCommands
from pingantong.gateway.protocols.watch.framing import WatchFramer
from pingantong.gateway.tests.fixture_rows import Row, load

WATCH = load("watch")
JT808 = load("jt808")
UPLINKS = [r for r in WATCH + JT808 if not r.is_downlink]

TRACCAR_ALARMS = {
    "sos": "sos",
    "removing": "removed",
    "lowBattery": "low_battery",
    "tampering": "tamper",
    "fallDown": "fall",
    "powerCut": "power_cut",
}
VEHICLE = "vehicle telematics attribute, not used by the care platform"
NOT_EXTRACTED: dict[tuple[str, int], str] = {
    ("jt808", 7): VEHICLE,
    ("jt808", 13): VEHICLE,
    ("jt808", 14): VEHICLE,
    ("jt808", 18): VEHICLE,
    ("jt808", 19): VEHICLE,
    ("jt808", 22): VEHICLE,
    ("jt808", 35): VEHICLE,
    ("jt808", 39): VEHICLE,
    ("jt808", 43): VEHICLE,
    ("jt808", 49): VEHICLE,
    ("jt808", 57): VEHICLE,
    ("jt808", 71): VEHICLE,
    ("jt808", 72): VEHICLE,
    ("jt808", 2): VEHICLE,
    ("jt808", 65): VEHICLE,
    ("jt808", 94): VEHICLE,
    ("jt808", 95): VEHICLE,
    ("jt808", 32): "e-lock 0x5501 vendor body",
    ("jt808", 36): "e-lock TLVs",
    ("jt808", 53): "e-lock",
    ("jt808", 44): "0x5501 vendor tilt",
    ("jt808", 66): "0x5501 vendor charge flag",
    ("jt808", 41): "vendor event code",
    ("jt808", 108): "Jimi alarm label (ADAS)",
    ("jt808", 111): "GL100 BLE tag via 0x0900",
    ("jt808", 112): "GL100 0x0900 device temperature",
    ("jt808", 102): "MV710G per-model door bit",
    ("jt808", 103): "MV710G per-model door alarm",
    ("jt808", 10): "vibration is not in the alarm vocabulary",
    ("jt808", 107): "vibration",
    ("jt808", 50): "hardAcceleration (driving behaviour)",
    ("jt808", 104): "AL300 movement alarm: bit 28 gives `other`",
    ("jt808", 11): "motion flag",
    ("jt808", 16): "motion flag",
    ("jt808", 40): "vendor 0x0B battery voltage layout",
    ("jt808", 73): "vendor text battery voltage",
    ("jt808", 110): "GL100 ICCID inside a vendor TLV",
    ("jt808", 26): "GL100 sensor temperature TLV 0xF6",
}
NO_POSITION: dict[tuple[str, int], str] = {
    ("jt808", 33): "vendor 0x5501 (JT600 body) not decoded",
    ("jt808", 34): "vendor 0x5502",
    ("jt808", 69): "vendor 0x5502",
    ("jt808", 70): "vendor 0x5501",
    ("jt808", 45): "position inside vendor 0x0900 transparent data",
    ("jt808", 54): "position inside vendor 0x0900 transparent data",
}
NO_REPLY_BY_DESIGN = {0x5501, 0x5502}  # Traccar answers 0x4401 only when attr bit 15 is set
SYNTHETIC_FRAMES = {("jt808", 114), ("jt808", 115)}  # framer tests only: 5 bytes, not a message


def _decode(row: Row, tz_offset_minutes: int = 0) -> tuple[list[DeviceEvent], list, object]:
    codec = get_codec(row.protocol, tz_offset_minutes=tz_offset_minutes)
    frames = codec.feed(row.input_bytes) if row.is_frame_stage else [codec.decode_frame(row.input_bytes)]
    events = [e for f in frames for e in f.events]
    return events, frames, codec


def _zero_coordinates(row: Row) -> bool:
    text = row.input_bytes.decode("latin-1")
    if row.protocol == "watch" and "," in text:
        fields = text.split(",")
        try:
            return float(fields[4]) == 0 and float(fields[6]) == 0
        except (ValueError, IndexError):
            return False
    return False


@pytest.mark.parametrize("row", UPLINKS, ids=lambda r: r.id)
def test_every_captured_uplink_decodes_without_error(row: Row) -> None:
    events, frames, _ = _decode(row)
    assert frames, "nothing came out of the codec"
    if (row.protocol, row.number) in SYNTHETIC_FRAMES:
        assert "shorter than a header" in frames[-1].error or "header needs" in frames[-1].error
        return
    assert [f.error for f in frames if f.error] == []
    assert events, "every frame yields at least one event"
    for event in events:
        assert event.to_json()["protocol"] == row.protocol


@pytest.mark.parametrize(
    "row", [r for r in UPLINKS if r.expect.get("assert") == "verifyNull"], ids=lambda r: r.id
)
def test_rows_traccar_decodes_to_nothing_give_no_position(row: Row) -> None:
    events, _, _ = _decode(row)
    assert all(e.position is None for e in events)
    assert all(e.kind != "position" for e in events)


POSITION_ASSERTS = ("verifyPosition", "verifyPositions")


@pytest.mark.parametrize(
    "row",
    [
        r
        for r in UPLINKS
        if r.expect.get("assert") in POSITION_ASSERTS and (r.protocol, r.number) not in NO_POSITION
    ],
    ids=lambda r: r.id,
)
def test_rows_with_a_position_give_a_timed_position(row: Row) -> None:
    events, _, _ = _decode(row)
    first = events[0]
    assert first.device_time is not None and first.device_time.year > 1999
    if _zero_coordinates(row):
        assert first.position is None  # 0,0 is never plotted
        return
    assert first.position is not None
    assert -90 <= first.position.latitude <= 90 and -180 <= first.position.longitude <= 180
    if row.expect["assert"] == "verifyPositions":
        assert len(events) > 1 and all(e.device_time for e in events)


@pytest.mark.parametrize("row", [r for r in UPLINKS if "position" in r.expect], ids=lambda r: r.id)
def test_rows_with_exact_positions_match_traccar_when_read_as_utc(row: Row) -> None:
    """Traccar reads watch times as UTC; these rows are decoded with tz 0 to compare."""
    expected = row.expect["position"]
    event = _decode(row, tz_offset_minutes=0)[0][0]
    assert event.position is not None
    assert event.device_time == datetime.strptime(expected["fix_time_utc"], "%Y-%m-%d %H:%M:%S.%f").replace(
        tzinfo=UTC
    )
    assert event.position.valid is expected["valid"]
    assert event.position.latitude == pytest.approx(expected["lat"], abs=1e-5)
    assert event.position.longitude == pytest.approx(expected["lon"], abs=1e-5)


def _attribute(row: Row, event: DeviceEvent, key: str, value: object) -> object:
    """Where Traccar's attribute lives in our contract (or `extra`)."""
    if key == "alarm":
        return sorted(TRACCAR_ALARMS[v] for v in str(value).split(",")), sorted(event.alarms)
    mapping = {
        "sat": (value, event.position.satellites if event.position else event.extra.get("satellites")),
        "batteryLevel": (value, event.battery_pct),
        "steps": (value, event.steps),
        "bloodOxygen": (value, event.vitals.get("spo2_pct")),
        "battery": (value, event.extra.get("battery_v")),
        "power": (value, event.extra.get("power_v")),
        "audio": ("audio/amr", event.extra.get("media")),
    }
    if key == "temp1" and row.protocol == "watch":
        return value, event.vitals.get("body_temp_c")
    if key in mapping:
        return mapping[key]
    return value, event.extra.get(key)


@pytest.mark.parametrize(
    "row",
    [
        r
        for r in UPLINKS
        if r.expect.get("assert") in POSITION_ASSERTS and (r.protocol, r.number) in NO_POSITION
    ],
    ids=lambda r: r.id,
)
def test_rows_we_deliberately_do_not_position_decode_cleanly_without_one(row: Row) -> None:
    """Vendor layouts outside our scope (see NO_POSITION for each reason): decoded, never misplotted."""
    events, frames, _ = _decode(row)
    assert [f.error for f in frames if f.error] == []
    assert all(e.position is None for e in events)


@pytest.mark.parametrize(
    "row",
    [
        r
        for r in UPLINKS
        if r.expect.get("assert") == "verifyAttribute" and (r.protocol, r.number) in NOT_EXTRACTED
    ],
    ids=lambda r: r.id,
)
def test_attributes_we_deliberately_do_not_extract_stay_absent(row: Row) -> None:
    """Vehicle telematics and per-model tables (see NOT_EXTRACTED): decoded without error, no guessed value."""
    events, frames, _ = _decode(row)
    assert [f.error for f in frames if f.error] == []
    assert events
    if row.expect["key"] == "alarm":
        # Vehicle alarms (vibration, harsh driving, doors, towing) have no meaning for a person:
        # they never become a person alarm such as sos or fall.
        assert not {"sos", "fall", "removed"} & set(events[0].alarms), events[0].alarms
        return
    _expected, actual = _attribute(row, events[0], row.expect["key"], row.expect["value"])
    assert actual in (None, [], {}), actual


@pytest.mark.parametrize(
    "row",
    [
        r
        for r in UPLINKS
        if r.expect.get("assert") == "verifyAttribute" and (r.protocol, r.number) not in NOT_EXTRACTED
    ],
    ids=lambda r: r.id,
)
def test_rows_with_exact_attributes_match_our_contract(row: Row) -> None:
    events, _, _ = _decode(row)
    expected, actual = _attribute(row, events[0], row.expect["key"], row.expect["value"])
    assert actual == expected


@pytest.mark.parametrize(
    "row",
    [r for r in UPLINKS if r.derived.get("traccar_reply") or r.derived.get("traccar_reply_hex")],
    ids=lambda r: r.id,
)
def test_replies_match_traccar_byte_for_byte_on_a_fresh_session(row: Row) -> None:
    """A fresh codec's platform serial is 0, the value Traccar always sends, so bytes agree."""
    _, frames, _ = _decode(row)
    reply = frames[0].reply
    if row.protocol == "watch":
        assert reply == row.derived["traccar_reply"].encode()
        return
    if "msg_id" not in row.derived:  # `(…,TIME)` text: Traccar echoes the current time; no clock here
        assert reply is None
        return
    msg_id = int(row.derived["msg_id"], 16)
    if msg_id in NO_REPLY_BY_DESIGN:
        assert reply is None
        return
    assert reply is not None and reply.hex() == row.derived["traccar_reply_hex"]


@pytest.mark.parametrize(
    "row",
    [r for r in WATCH + JT808 if r.expect.get("assert") == "verifyFrame" and not r.is_downlink],
    ids=lambda r: r.id,
)
def test_frame_decoder_rows_give_the_expected_first_frame(row: Row) -> None:
    expected = bytes.fromhex(row.expect["expected_first_frame_hex"])
    framer = WatchFramer() if row.protocol == "watch" else Jt808Framer()
    pieces = [p for p in framer.feed(row.input_bytes) if p.data is not None]
    first = pieces[0]
    data = first.data if row.protocol == "watch" or first.text else b"\x7e" + first.data + b"\x7e"
    assert data == expected


def _watch_downlink(row: Row) -> bytes:
    commands = WatchCommands("123456789012345")
    params = row.data["command_params"]
    match row.data["command"]:
        case "TYPE_REBOOT_DEVICE":
            return commands.reset()
        case "TYPE_SOS_NUMBER":
            return commands.sos_number(params["KEY_INDEX"], params["KEY_PHONE"])
        case "TYPE_VOICE_MESSAGE":
            return commands.voice_message(bytes.fromhex(params["KEY_DATA"]))
        case "TYPE_MESSAGE":
            return commands.message(params["KEY_MESSAGE"])
        case "TYPE_CUSTOM":
            return commands.custom(params["KEY_DATA"])
        case "TYPE_SET_TIMEZONE":
            return commands.set_timezone(params["KEY_TIMEZONE"], params.get("KEY_LANGUAGE"))
    raise AssertionError(row.data["command"])


def _jt808_downlink(row: Row) -> bytes:
    if row.data.get("command") is None:  # the frame encoder row: escape and delimit
        inner = row.input_bytes[1:-1]
        return b"\x7e" + escape(inner) + b"\x7e"
    commands = Jt808Codec().commands_for("123456789012347")
    note = row.data["note"]
    if "0x8105" in note:
        return commands.terminal_control(0xF0)
    if "0x8300" in note:
        return commands.text("Test, Command, 123#", flags=0x01)
    if "0x8900" in note:
        return commands.transparent(0xF0, row.data["command_params"]["KEY_DATA"].encode())
    raise AssertionError(note)


@pytest.mark.parametrize("row", [r for r in WATCH + JT808 if r.is_downlink], ids=lambda r: r.id)
def test_downlink_commands_match_the_expected_bytes(row: Row) -> None:
    produced = _watch_downlink(row) if row.protocol == "watch" else _jt808_downlink(row)
    expected_text = row.data.get("expected_output")
    if row.data.get("expected_output_encoding") == "hex" or row.protocol == "jt808":
        expected = bytes.fromhex(expected_text or row.expect["expected_output_hex"])
    else:
        expected = expected_text.encode("latin-1")
    assert produced == expected


def test_every_fixture_row_is_loaded() -> None:
    assert len(WATCH) == 69 and len(JT808) == 121
