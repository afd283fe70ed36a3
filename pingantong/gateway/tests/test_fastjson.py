"""The ingest path's JSON (decision 0121): orjson, writing what the standard encoder wrote before
for the values events carry, and falling back to it for what orjson refuses."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from pingantong.gateway import fastjson
from pingantong.gateway.events import DeviceEvent, Position

_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_json_values)
def test_it_round_trips_like_the_standard_library(value: object) -> None:
    text = fastjson.dumps(value)
    assert fastjson.loads(text) == json.loads(json.dumps(value)) == value


def test_event_payloads_decode_to_what_the_standard_encoder_wrote() -> None:
    event = DeviceEvent(
        protocol="jt808",
        device_id="13800000007",
        message="0x0200",
        kind="alarm",
        device_time=datetime(2026, 11, 29, 2, 0, tzinfo=UTC),
        position=Position(31.2, 121.5, True, 0.0, 0.0, 10.0, 9),
        alarms=["sos", "low_battery"],
        signal_pct=65,
        serial=7,
        extra={"status_flags": 2, "imei": "86 中文", 3: "int key"},
    )
    data = event.to_json(include_extra=True)
    standard = json.JSONEncoder(default=str, ensure_ascii=False).encode(data)
    assert fastjson.loads(fastjson.dumps(data)) == json.loads(standard)
    assert "中文" in fastjson.dumps(data)  # kept as characters, as ensure_ascii=False did


def test_values_outside_json_are_written_as_the_standard_default_str_wrote_them() -> None:
    @dataclass
    class Cell:
        mcc: int

    when = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
    value = {"at": when, "raw": b"\x01", "cell": Cell(460), "huge": 2**70}
    assert json.loads(fastjson.dumps(value)) == {
        "at": str(when),
        "raw": str(b"\x01"),
        "cell": str(Cell(460)),
        "huge": 2**70,  # past orjson's 64 bits: the standard encoder wrote it
    }


def test_not_a_number_is_written_as_null_which_postgresql_accepts() -> None:
    # The standard encoder wrote NaN/Infinity, which is not JSON and which jsonb refuses.
    assert fastjson.dumps({"t": float("nan"), "u": float("inf")}) == '{"t":null,"u":null}'


def test_rows_written_before_with_nan_still_decode() -> None:
    value = fastjson.loads('{"body_temp_c": NaN, "steps": 3}')
    assert value["steps"] == 3 and value["body_temp_c"] != value["body_temp_c"]
