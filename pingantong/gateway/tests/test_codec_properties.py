"""Property tests: `feed` never raises, and TCP segmentation never changes what is decoded."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pingantong.gateway.protocols import PROTOCOLS, get_codec
from pingantong.gateway.tests.fixture_rows import wire_frames

FRAMES = {protocol: wire_frames(protocol) for protocol in PROTOCOLS}
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _summary(protocol: str, chunks: list[bytes]) -> list[tuple]:
    codec = get_codec(protocol)
    out = []
    for chunk in chunks:
        for frame in codec.feed(chunk):
            out.append(
                (frame.raw, frame.error, frame.reply, [e.to_json(include_extra=True) for e in frame.events])
            )
    return out


@pytest.mark.parametrize("protocol", PROTOCOLS)
@SETTINGS
@given(data=st.binary(max_size=2048))
def test_random_bytes_never_raise(protocol: str, data: bytes) -> None:
    codec = get_codec(protocol)
    for frame in codec.feed(data):
        assert frame.error is not None or frame.events or frame.reply is None


@pytest.mark.parametrize("protocol", PROTOCOLS)
@SETTINGS
@given(data=st.data())
def test_mutated_real_frames_never_raise(protocol: str, data: st.DataObject) -> None:
    frame = bytearray(data.draw(st.sampled_from(FRAMES[protocol])))
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(frame) - 1))
        action = data.draw(st.sampled_from(["flip", "delete", "insert"]))
        if action == "flip":
            frame[position] = data.draw(st.integers(0, 255))
        elif action == "delete" and len(frame) > 1:
            del frame[position]
        else:
            frame.insert(position, data.draw(st.sampled_from([0x5B, 0x5D, 0x7D, 0x7E, 0x2A, 0x2C, 0x28])))
    codec = get_codec(protocol)
    codec.feed(bytes(frame))
    codec.decode_frame(bytes(frame))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_every_real_frame_split_at_every_byte_boundary_decodes_the_same(protocol: str) -> None:
    for frame in FRAMES[protocol]:
        whole = _summary(protocol, [frame])
        for cut in range(1, len(frame)):
            assert _summary(protocol, [frame[:cut], frame[cut:]]) == whole, (frame[:40], cut)


@pytest.mark.parametrize("protocol", PROTOCOLS)
@SETTINGS
@given(data=st.data())
def test_merged_frames_in_random_segments_decode_all(protocol: str, data: st.DataObject) -> None:
    frames = data.draw(st.lists(st.sampled_from(FRAMES[protocol]), min_size=1, max_size=6))
    stream = b"".join(frames)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    merged = _summary(protocol, chunks)
    one_by_one = [item for frame in frames for item in _summary(protocol, [frame])]
    assert [m[1:] for m in merged] == [o[1:] for o in one_by_one] or _serials_differ(merged, one_by_one)


def _serials_differ(merged: list[tuple], separate: list[tuple]) -> bool:
    """JT/T 808 replies carry the session's incrementing serial, so only compare the events."""
    return [m[3] for m in merged] == [s[3] for s in separate] and len(merged) == len(separate)
