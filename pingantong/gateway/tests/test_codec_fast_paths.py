"""The codecs' fast paths (decision 0093) give exactly what the slow, obvious code gave: the XOR
checksum folded on one integer, and BCD/watch times read field by field instead of `strptime`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import reduce

from hypothesis import given, settings
from hypothesis import strategies as st

from pingantong.gateway.protocols.jt808.framing import xor_checksum
from pingantong.gateway.protocols.jt808.location import bcd_time
from pingantong.gateway.protocols.watch.decoder import _device_time


def _reference_bcd(data: bytes, tz: int) -> datetime | None:
    text = data.hex()
    if len(text) != 12 or not text.isdigit():
        return None
    try:
        local = datetime.strptime(text, "%y%m%d%H%M%S")
    except ValueError:
        return None
    return (local - timedelta(minutes=tz)).replace(tzinfo=UTC)


def _reference_watch(date: str, time: str, tz: int) -> datetime | None:
    try:
        local = datetime.strptime(date.strip() + time.strip()[:6], "%d%m%y%H%M%S")
    except ValueError:
        return None
    return (local - timedelta(minutes=tz)).replace(tzinfo=UTC)


@settings(max_examples=500, deadline=None)
@given(st.binary(min_size=0, max_size=300))
def test_xor_checksum_is_the_xor_of_every_byte(data: bytes) -> None:
    assert xor_checksum(data) == reduce(lambda acc, b: acc ^ b, data, 0)


_digits = st.text(alphabet="0123456789", min_size=12, max_size=12)


@settings(max_examples=1000, deadline=None)
@given(st.one_of(_digits, st.sampled_from(["261128101010", "690101000000", "681231235959", "260230120000"])))
def test_bcd_time_matches_strptime(text: str) -> None:
    data = bytes.fromhex(text)
    for tz in (480, 0, -300):
        assert bcd_time(data, tz) == _reference_bcd(data, tz)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=6, max_size=6))
def test_bcd_time_refuses_what_strptime_refused(data: bytes) -> None:
    assert bcd_time(data, 480) == _reference_bcd(data, 480)


@settings(max_examples=1000, deadline=None)
@given(
    st.one_of(
        st.text(alphabet="0123456789", min_size=6, max_size=6), st.text(alphabet="0123456789 ", max_size=8)
    ),
    st.one_of(
        st.text(alphabet="0123456789", min_size=6, max_size=9), st.text(alphabet="0123456789 .", max_size=8)
    ),
)
def test_watch_time_matches_strptime(date: str, time: str) -> None:
    assert _device_time(date, time, 480) == _reference_watch(date, time, 480)
    assert _device_time("281126", "101010", 480) == datetime(2026, 11, 28, 2, 10, 10, tzinfo=UTC)


def test_bcd_times_are_remembered_per_zone_and_the_memory_stays_bounded() -> None:
    from pingantong.gateway.protocols.jt808 import location

    same_second = bytes.fromhex("261129081500")
    assert bcd_time(same_second, 480) == datetime(2026, 11, 29, 0, 15, tzinfo=UTC)
    assert bcd_time(same_second, 480) is bcd_time(same_second, 480)  # parsed once
    assert bcd_time(same_second, 0) == datetime(2026, 11, 29, 8, 15, tzinfo=UTC)
    for n in range(location._BCD_TIMES_MAX + 10):
        minutes, seconds = divmod(n, 60)
        bcd_time(
            bytes.fromhex(
                f"2611{minutes // 1440 % 28 + 1:02d}{minutes // 60 % 24:02d}{minutes % 60:02d}{seconds:02d}"
            ),
            480,
        )
    assert 0 < location._parse_bcd_time.cache_info().currsize <= location._BCD_TIMES_MAX
