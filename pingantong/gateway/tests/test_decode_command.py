"""The public `decode` command: one JSON object, exit 0 on malformed input, clear usage errors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from pingantong.gateway.decode import TzFormatError, decode_stream, parse_tz

AL_SOS = (
    "[3G*6907919734*003e*AL_LTE,170525,214118,V,0,N,0,E,0,0,0,0,0,22,0,0,00010000,0,0,0]"
    "[3G*4700186508*000B*LK,0,10,100]"
)
HEARTBEAT_HEX = "7e0002000004304832546500b7ca7e"


def run(*args: str) -> dict:
    out = io.StringIO()
    call_command("decode", *args, stdout=out)
    return json.loads(out.getvalue())


def test_watch_file_gives_frames_events_and_text_replies(tmp_path: Path) -> None:
    capture = tmp_path / "watch.txt"
    capture.write_text(AL_SOS)
    result = run("--protocol", "watch", str(capture))
    assert set(result) == {"frames", "errors"} and result["errors"] == []
    first = result["frames"][0]
    assert set(first) == {"events", "reply", "reply_hex"}
    assert first["reply"] == "[3G*6907919734*0002*AL]"
    assert first["reply_hex"] == b"[3G*6907919734*0002*AL]".hex()
    event = first["events"][0]
    assert event["alarms"] == ["sos"] and event["device_time"] == "2025-05-17T13:41:18Z"
    assert set(event) == {
        "protocol",
        "device_id",
        "message",
        "kind",
        "device_time",
        "position",
        "alarms",
        "battery_pct",
        "signal_pct",
        "steps",
        "vitals",
        "sensor",
        "archived",
    }


def test_tz_option_changes_the_device_clock_zone(tmp_path: Path) -> None:
    capture = tmp_path / "watch.txt"
    capture.write_text(AL_SOS)
    assert run("--protocol", "watch", "--tz", "Z", str(capture))["frames"][0]["events"][0]["device_time"] == (
        "2025-05-17T21:41:18Z"
    )


def test_jt808_hex_literal_gives_a_binary_reply_as_hex_only() -> None:
    result = run("--protocol", "jt808", "--hex", HEARTBEAT_HEX)
    frame = result["frames"][0]
    assert frame["reply"] is None
    assert frame["reply_hex"] == "7e80010005043048325465000000b70002004e7e"


def test_malformed_input_is_reported_in_errors_with_success(tmp_path: Path) -> None:
    capture = tmp_path / "bad.bin"
    capture.write_bytes(b"\x00garbage[3G*1*0004*UD,xx]7e")
    result = run("--protocol", "watch", str(capture))
    assert result["errors"] and any("malformed" in e for e in result["errors"])


def test_stdin_is_read_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = io.TextIOWrapper(io.BytesIO(HEARTBEAT_HEX.encode()))
    monkeypatch.setattr("sys.stdin", fake)
    assert run("--protocol", "jt808", "--hex", "-")["frames"][0]["events"][0]["kind"] == "heartbeat"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--protocol", "gt06", "x"), "unknown protocol"),
        (("--protocol", "jt808", "--hex", "7e0g"), "not valid hex"),
        (("--protocol", "watch", "/no/such/file"), "cannot read"),
        (("--protocol", "watch", "--tz", "+8", "[x]"), "bad time zone"),
    ],
)
def test_wrong_usage_is_a_command_error(args: tuple[str, ...], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("decode", *args, stdout=io.StringIO())


@pytest.mark.parametrize(("text", "minutes"), [("+08:00", 480), ("-05:30", -330), ("Z", 0), ("+0000", 0)])
def test_parse_tz(text: str, minutes: int) -> None:
    assert parse_tz(text) == minutes


@pytest.mark.parametrize("text", ["8", "+8", "+24:00", "UTC+8", ""])
def test_parse_tz_rejects_other_forms(text: str) -> None:
    with pytest.raises(TzFormatError):
        parse_tz(text)


def test_decode_stream_reports_an_incomplete_tail() -> None:
    result = decode_stream("watch", b"[3G*1*0002*LK")
    assert result == {"frames": [], "errors": ["incomplete frame at end of input (13 bytes)"]}


def test_registry_gives_a_fresh_codec_per_connection_and_rejects_unknown_protocols() -> None:
    from pingantong.gateway.protocols import UnknownProtocolError, get_codec

    first, second = get_codec("watch"), get_codec("watch", tz_offset_minutes=0)
    assert first is not second and (first.tz_offset_minutes, second.tz_offset_minutes) == (480, 0)
    with pytest.raises(UnknownProtocolError, match="unknown protocol"):
        get_codec("gt06")


def _cli(*args: str, stdin: bytes = b"") -> tuple[int, str, str]:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "pingantong.cli", "decode", *args],
        input=stdin,
        capture_output=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout.decode(), done.stderr.decode()


def test_cli_prints_one_json_object_and_exits_0_on_malformed_input() -> None:
    code, out, err = _cli("--protocol", "watch", "-", stdin=b"junk[3G*1*0002*LK][3G*1*0004*AL,x]")
    assert code == 0 and "Traceback" not in err
    result = json.loads(out)
    assert len(result["frames"]) == 3 and len(result["errors"]) == 2


@pytest.mark.parametrize(
    "args",
    [
        ("--protocol", "nope", "-"),
        ("--protocol", "jt808", "--hex", "zz"),
        ("--protocol", "watch", "--tz", "x", "-"),
    ],
)
def test_cli_wrong_usage_is_one_line_on_stderr_and_non_zero(args: tuple[str, ...]) -> None:
    code, out, err = _cli(*args)
    assert code != 0 and out == ""
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
