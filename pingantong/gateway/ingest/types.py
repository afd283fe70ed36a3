"""What listeners hand to the ingestor, and what it answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from pingantong.gateway.events import DeviceEvent


@dataclass(slots=True)
class FrameIn:
    """One frame as received, with what the codec made of it."""

    protocol: str
    raw: bytes
    events: list[DeviceEvent]
    peer: str = ""
    identity: str | None = None
    error: str | None = None
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(slots=True)
class Stored:
    """What was committed for one frame."""

    raw_frame_id: int
    event_ids: list[int]
    device_pk: int | None


def identity_of(frame: FrameIn) -> str:
    if frame.events:
        return frame.events[0].device_id
    return frame.identity or ""
