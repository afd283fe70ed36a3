"""Protocol codec registry: `get_codec("watch")` / `get_codec("jt808")` gives a fresh device session."""

from __future__ import annotations

from collections.abc import Callable

from pingantong.gateway.protocols.base import DEFAULT_TZ_OFFSET_MINUTES, Codec, DecodedFrame
from pingantong.gateway.protocols.jt808.codec import Jt808Codec
from pingantong.gateway.protocols.watch.codec import WatchCodec

CODECS: dict[str, Callable[..., Codec]] = {"watch": WatchCodec, "jt808": Jt808Codec}
PROTOCOLS: tuple[str, ...] = tuple(CODECS)


class UnknownProtocolError(ValueError):
    """Asked for a protocol this gateway has no codec for."""


def get_codec(name: str, *, tz_offset_minutes: int = DEFAULT_TZ_OFFSET_MINUTES) -> Codec:
    """A new codec (one per connection) for `name`, with the device clock zone in minutes east of UTC."""
    try:
        factory = CODECS[name]
    except KeyError:
        raise UnknownProtocolError(
            f"unknown protocol {name!r} (expected one of: {', '.join(PROTOCOLS)})"
        ) from None
    return factory(tz_offset_minutes=tz_offset_minutes)


__all__ = [
    "CODECS",
    "DEFAULT_TZ_OFFSET_MINUTES",
    "PROTOCOLS",
    "Codec",
    "DecodedFrame",
    "UnknownProtocolError",
    "get_codec",
]
