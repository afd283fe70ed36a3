"""Behaviour rules from home sensors (S26–S28): pure functions over a client's sensor history.

These are about something *not* happening (no motion all day) or lasting too long (the door open
at night), so no single event triggers them: a periodic task (`tasks.evaluate_behaviour`) reads
each home's recent sensor readings, calls these, and raises what they return. Privacy (S27): only
motion and door states are read, never cameras or audio.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .choices import AlarmType
from .rules import RaiseAlarm, priority_of

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Reading:
    """One home-sensor state change: `kind` is "motion" (value True = movement) or "door"
    (value True = open)."""

    at: datetime
    kind: str
    value: bool


def no_motion(
    readings: Sequence[Reading], *, now: datetime, hours: int = 12, watched_since: datetime | None = None
) -> RaiseAlarm | None:
    """No movement for `hours` at a home with a motion sensor (S26, S28). A home watched for less
    than `hours` (new installation) is not judged yet."""
    motions = [r.at for r in readings if r.kind == "motion" and r.value and r.at <= now]
    last = max(motions) if motions else watched_since
    if last is None or now - last < timedelta(hours=hours):
        return None
    quiet = now - last
    return RaiseAlarm(
        alarm_type=AlarmType.NO_ACTIVITY,
        priority=priority_of(AlarmType.NO_ACTIVITY),
        detail=f"no motion for {int(quiet.total_seconds() // 3600)} h",
        data={"last_motion": last.isoformat()},
    )


def _is_night(at: datetime, start_hour: int, end_hour: int) -> bool:
    hour = at.astimezone(LOCAL_TZ).hour
    return hour >= start_hour or hour < end_hour if start_hour > end_hour else start_hour <= hour < end_hour


def door_open_at_night(
    readings: Sequence[Reading],
    *,
    now: datetime,
    minutes: int = 15,
    night_start_hour: int = 22,
    night_end_hour: int = 6,
) -> RaiseAlarm | None:
    """The front door has stood open for `minutes` during the night (local time) (S26)."""
    doors = sorted((r for r in readings if r.kind == "door" and r.at <= now), key=lambda r: r.at)
    if not doors or not doors[-1].value or not _is_night(now, night_start_hour, night_end_hour):
        return None
    opened = doors[-1].at
    if now - opened < timedelta(minutes=minutes):
        return None
    return RaiseAlarm(
        alarm_type=AlarmType.OTHER,
        priority=2,
        detail="door open at night",
        data={"opened_at": opened.isoformat()},
    )
