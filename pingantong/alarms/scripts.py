"""Scripted action lists per alarm type: what the agent does, in order (DOMAIN.md "Alarm handling").

SOS: call the client back, then the contacts, then 120. Smoke or gas: 119 first. The alarm screen
shows each step ticked once the timeline has it, so a glance tells what is still to do.
"""

from __future__ import annotations

from collections.abc import Iterable

from .choices import AlarmType, StepKind

S = StepKind
_MEDICAL = (
    S.CALLED_CLIENT,
    S.CONTACTED_FAMILY,
    S.CALLED_120,
    S.COMMUNITY_INFORMED,
    S.RESPONDER_DISPATCHED,
    S.ON_SCENE,
    S.RESOLVED,
)
_FIRE = (
    S.CALLED_119,
    S.CALLED_CLIENT,
    S.CONTACTED_FAMILY,
    S.COMMUNITY_INFORMED,
    S.RESPONDER_DISPATCHED,
    S.ON_SCENE,
    S.RESOLVED,
)
_WELFARE = (
    S.CALLED_CLIENT,
    S.CONTACTED_FAMILY,
    S.COMMUNITY_INFORMED,
    S.RESPONDER_DISPATCHED,
    S.ON_SCENE,
    S.RESOLVED,
)

SCRIPTS: dict[str, tuple[StepKind, ...]] = {
    AlarmType.SOS: _MEDICAL,
    AlarmType.FALL: _MEDICAL,
    AlarmType.VITAL_ABNORMAL: (S.CALLED_CLIENT, S.CONTACTED_FAMILY, S.CALLED_120, S.RESOLVED),
    AlarmType.SMOKE: _FIRE,
    AlarmType.GAS: _FIRE,
    AlarmType.WATER_LEAK: (S.CALLED_CLIENT, S.CONTACTED_FAMILY, S.COMMUNITY_INFORMED, S.RESOLVED),
    AlarmType.GEOFENCE_EXIT: (
        S.CALLED_CLIENT,
        S.CONTACTED_FAMILY,
        S.COMMUNITY_INFORMED,
        S.CALLED_110,
        S.RESOLVED,
    ),
    AlarmType.NO_ACTIVITY: _WELFARE,
    AlarmType.DEVICE_OFFLINE: _WELFARE,
    AlarmType.REMOVED: (S.CALLED_CLIENT, S.CONTACTED_FAMILY, S.RESOLVED),
}
DEFAULT_SCRIPT = (S.CALLED_CLIENT, S.CONTACTED_FAMILY, S.RESOLVED)


# Steps the system records that also tick a scripted step (a contact acknowledged the cascade's
# alert: the family has been reached).
COUNTS_AS: dict[str, str] = {StepKind.NOTIFICATION_ACKNOWLEDGED: StepKind.CONTACTED_FAMILY}


def script_for(alarm_type: str, done_kinds: Iterable[str]) -> list[dict]:
    """The script with each step marked done or not, and the first open one marked next."""
    done = set(done_kinds)
    done |= {COUNTS_AS[k] for k in list(done) if k in COUNTS_AS}
    items = []
    next_marked = False
    for kind in SCRIPTS.get(alarm_type, DEFAULT_SCRIPT):
        is_done = kind in done
        is_next = not is_done and not next_marked
        next_marked = next_marked or is_next
        items.append({"kind": kind.value, "label": kind.label, "done": is_done, "next": is_next})
    return items
