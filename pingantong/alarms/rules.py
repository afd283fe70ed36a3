"""Pure alarm rules: `(DeviceEvent, RuleContext) → decisions`. No database, no clock, no I/O.

Each rule looks at one event and the context the engine assembled for it (is the device bound to a
client, the client's thresholds and safe areas, the device's recent fixes, "now") and answers with
`RaiseAlarm` (needs a human: goes to the queue) or `RecordSignal` (recorded only). The engine
(`pingantong.gateway.pipeline`, through `pingantong.alarms.engine`) applies them with the actions in
`actions.py`. A rule that raises is logged by the engine and never stops the others.

Requirements: S01 (SOS), S10 (geofence with dwell and accuracy gating), S23 (vital-sign thresholds),
S25 (smoke, gas, water), S26–S28 (behaviour, in `behaviour.py`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shapely.geometry import Point, Polygon

from .choices import DEFAULT_PRIORITY, SIGNAL_TYPES, AlarmType

# ---------------------------------------------------------------------------------------------
# Decisions and context


@dataclass(frozen=True)
class RaiseAlarm:
    """Put an alarm in the queue (or join the client's open alarm of that type)."""

    alarm_type: str
    priority: int
    detail: str = ""
    from_unbound_device: bool = False
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RecordSignal:
    """Record a device condition; nobody is interrupted."""

    signal_type: str
    data: Mapping[str, Any] = field(default_factory=dict)


Decision = RaiseAlarm | RecordSignal


@dataclass(frozen=True)
class Fix:
    """One earlier position of the device, as the geofence rule needs it."""

    at: datetime
    latitude: float
    longitude: float
    valid: bool = True
    accuracy_m: float | None = None


@dataclass(frozen=True)
class SafeArea:
    """A client's safe area: a circle (centre + radius in metres) or a polygon of (lat, lon)."""

    name: str
    circle: tuple[float, float, float] | None = None
    polygon: tuple[tuple[float, float], ...] | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SafeArea:
        if data.get("circle"):
            lat, lon, radius = data["circle"]
            return cls(name=str(data.get("name", "")), circle=(float(lat), float(lon), float(radius)))
        if data.get("polygon"):
            return cls(
                name=str(data.get("name", "")),
                polygon=tuple((float(lat), float(lon)) for lat, lon in data["polygon"]),
            )
        raise ValueError("a safe area needs 'circle' [lat, lon, radius_m] or 'polygon' [[lat, lon], ...]")

    def distance_outside_m(self, latitude: float, longitude: float) -> float:
        """Metres from the point to the area (0 inside). Local equirectangular projection: accurate
        to well under a metre at the few-kilometre scale of a safe area."""
        if self.circle is not None:
            clat, clon, radius = self.circle
            return max(0.0, _metres_between(latitude, longitude, clat, clon) - radius)
        assert self.polygon is not None
        lat0, lon0 = self.polygon[0]
        shape = Polygon([_to_local(lat, lon, lat0, lon0) for lat, lon in self.polygon])
        return float(shape.distance(Point(_to_local(latitude, longitude, lat0, lon0))))


_EARTH_M = 6_371_008.8


def _to_local(lat: float, lon: float, lat0: float, lon0: float) -> tuple[float, float]:
    x = math.radians(lon - lon0) * _EARTH_M * math.cos(math.radians(lat0))
    y = math.radians(lat - lat0) * _EARTH_M
    return x, y


def _metres_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    x, y = _to_local(lat1, lon1, lat2, lon2)
    return math.hypot(x, y)


# Defaults a client's own limits override (S23): (low, high); None = no bound.
DEFAULT_VITAL_LIMITS: dict[str, tuple[float | None, float | None]] = {
    "heart_rate_bpm": (40, 130),
    "bp_systolic_mmhg": (90, 180),
    "bp_diastolic_mmhg": (50, 110),
    "spo2_pct": (90, None),
    "body_temp_c": (35.0, 38.5),
}


@dataclass(frozen=True)
class RuleContext:
    """What the engine knows about the event's device and client when the rules run."""

    now: datetime
    bound: bool = True
    client_key: str | None = None
    vital_limits: Mapping[str, Sequence[float | None]] = field(default_factory=dict)
    safe_areas: Sequence[SafeArea] = ()
    geofence_dwell_seconds: int = 300
    geofence_max_accuracy_m: float = 100.0
    recent_fixes: Sequence[Fix] = ()  # earlier fixes of this device, oldest first

    def limits_for(self, key: str) -> tuple[float | None, float | None]:
        low, high = self.vital_limits.get(key) or DEFAULT_VITAL_LIMITS.get(key, (None, None))
        return low, high


def priority_of(alarm_type: str) -> int:
    return DEFAULT_PRIORITY.get(alarm_type, 3)


def _decision_for(alarm_type: str, ctx: RuleContext, **data: Any) -> Decision:
    if alarm_type in SIGNAL_TYPES:
        return RecordSignal(signal_type=alarm_type, data=data)
    return RaiseAlarm(
        alarm_type=alarm_type, priority=priority_of(alarm_type), from_unbound_device=not ctx.bound, data=data
    )


# ---------------------------------------------------------------------------------------------
# Rules


# A device's own geofence bit has no dwell or accuracy gating: it is recorded, and our own
# `geofence_rule` decides whether to raise (S10). `vital_abnormal` from the device is raised as is.
DEVICE_SIGNAL_ONLY = frozenset({AlarmType.GEOFENCE_EXIT})


def device_alarm_rule(event: Any, ctx: RuleContext) -> list[Decision]:
    """Every alarm bit the device reported (SOS, fall, removed, smoke, gas, water…) becomes an alarm,
    or a signal for the conditions that need no human. An SOS is raised also from an unbound
    device, flagged, never dropped (public contract)."""
    decisions: list[Decision] = []
    for alarm_type in event.alarms:
        if alarm_type in DEVICE_SIGNAL_ONLY:
            decisions.append(RecordSignal(signal_type=alarm_type, data={"source": "device"}))
            continue
        decisions.append(_decision_for(alarm_type, ctx, message=event.message, archived=event.archived))
    return decisions


# zigbee2mqtt `action` values that mean "the SOS button was pressed" (model-dependent, FORMATS.md §6).
SOS_ACTIONS = frozenset({"emergency", "sos", "single", "double", "hold", "long", "press"})
_SENSOR_FLAGS = {
    "smoke": AlarmType.SMOKE,
    "gas": AlarmType.GAS,
    "gas_alarm_1": AlarmType.GAS,
    "gas_alarm_2": AlarmType.GAS,
    "water_leak": AlarmType.WATER_LEAK,
    "sos": AlarmType.SOS,
    "tamper": AlarmType.TAMPER,
    "battery_low": AlarmType.LOW_BATTERY,
}
_SENSOR_TYPES = {
    "smoke": AlarmType.SMOKE,
    "gas": AlarmType.GAS,
    "water": AlarmType.WATER_LEAK,
    "water_leak": AlarmType.WATER_LEAK,
    "sos": AlarmType.SOS,
}


def sensor_types_of(sensor: Mapping[str, Any]) -> list[str]:
    """Alarm types in a home-sensor payload: zigbee2mqtt fields (`smoke`, `gas`, `water_leak`,
    `action`…) or the platform's normalised shape (`{"type": "smoke", "alarm": true}`)."""
    found: list[str] = []
    for key, alarm_type in _SENSOR_FLAGS.items():
        if sensor.get(key) is True:
            found.append(alarm_type)
    if sensor.get("alarm") is True and (kind := _SENSOR_TYPES.get(str(sensor.get("type", "")))):
        found.append(kind)
    action = sensor.get("action")
    if isinstance(action, str) and action.lower() in SOS_ACTIONS:
        found.append(AlarmType.SOS)
    return list(dict.fromkeys(found))


def sensor_rule(event: Any, ctx: RuleContext) -> list[Decision]:
    """Home sensors (S25): smoke, gas, water leak, SOS button. Types the codec already put in
    `event.alarms` are left to `device_alarm_rule`, so one press is one decision."""
    if not event.sensor:
        return []
    already = set(event.alarms)
    return [
        _decision_for(t, ctx, message=event.message, sensor=dict(event.sensor))
        for t in sensor_types_of(event.sensor)
        if t not in already
    ]


def fix_accuracy_m(event: Any) -> float | None:
    """The fix's accuracy in metres where the device told it; a few satellites means a poor fix."""
    extra = getattr(event, "extra", None) or {}
    for key in ("accuracy_m", "accuracy", "hdop_m"):
        if isinstance(extra.get(key), int | float):
            return float(extra[key])
    satellites = event.position.satellites if event.position else None
    if satellites is not None and satellites < 4:
        return math.inf
    return None


def geofence_rule(event: Any, ctx: RuleContext) -> list[Decision]:
    """Left every safe area (S10), for real: GPS drift must not wake a family at night.

    Only a valid (A) fix with usable accuracy counts; it must lie outside every area by more than
    its own accuracy; and the device must have stayed outside, on usable fixes only, for the dwell
    time (an inside fix in between resets the clock). The engine's repeat-join keeps one alarm per
    excursion.
    """
    pos = event.position
    if not ctx.safe_areas or pos is None or not pos.valid or event.archived:
        return []
    accuracy = fix_accuracy_m(event)
    if accuracy is not None and accuracy > ctx.geofence_max_accuracy_m:
        return []
    margin = accuracy or 0.0
    if not _outside_all(ctx.safe_areas, pos.latitude, pos.longitude, margin):
        return []
    event_time = event.device_time or ctx.now
    outside_since = event_time
    for fix in reversed(ctx.recent_fixes):
        if fix.at > event_time:
            continue
        if not fix.valid or (fix.accuracy_m is not None and fix.accuracy_m > ctx.geofence_max_accuracy_m):
            continue  # unusable fixes neither prove nor disprove an excursion
        if not _outside_all(ctx.safe_areas, fix.latitude, fix.longitude, fix.accuracy_m or 0.0):
            break
        outside_since = fix.at
    dwell = (event_time - outside_since).total_seconds()
    if dwell < ctx.geofence_dwell_seconds:
        return []
    distance = min(a.distance_outside_m(pos.latitude, pos.longitude) for a in ctx.safe_areas)
    return [
        RaiseAlarm(
            alarm_type=AlarmType.GEOFENCE_EXIT,
            priority=priority_of(AlarmType.GEOFENCE_EXIT),
            detail=f"{round(distance)} m outside",
            from_unbound_device=not ctx.bound,
            data={"outside_since": outside_since.isoformat(), "distance_m": round(distance, 1)},
        )
    ]


def _outside_all(areas: Sequence[SafeArea], lat: float, lon: float, margin: float) -> bool:
    return all(a.distance_outside_m(lat, lon) > margin for a in areas)


VITAL_LABELS = {
    "heart_rate_bpm": "HR",
    "bp_systolic_mmhg": "SBP",
    "bp_diastolic_mmhg": "DBP",
    "spo2_pct": "SpO2",
    "body_temp_c": "T",
}


def vitals_rule(event: Any, ctx: RuleContext) -> list[Decision]:
    """A measured vital sign outside the client's limits (defaults where none are set) (S23).
    A zero reading (`heart,0`: the sensor did not read) is not a measurement."""
    breaches = []
    for key, value in (event.vitals or {}).items():
        if not value:
            continue
        low, high = ctx.limits_for(key)
        if low is not None and value < low:
            breaches.append(f"{VITAL_LABELS.get(key, key)} {value:g} < {low:g}")
        elif high is not None and value > high:
            breaches.append(f"{VITAL_LABELS.get(key, key)} {value:g} > {high:g}")
    if not breaches:
        return []
    return [
        RaiseAlarm(
            alarm_type=AlarmType.VITAL_ABNORMAL,
            priority=priority_of(AlarmType.VITAL_ABNORMAL),
            detail="; ".join(breaches)[:60],
            from_unbound_device=not ctx.bound,
            data={"vitals": dict(event.vitals), "breaches": breaches},
        )
    ]


LOW_BATTERY_PCT = 15


def battery_rule(event: Any, ctx: RuleContext) -> list[Decision]:
    """A battery report at or under 15 % is a signal (the device may also send a low_battery bit,
    which `device_alarm_rule` records); never an alarm."""
    if event.battery_pct is None or event.battery_pct > LOW_BATTERY_PCT or "low_battery" in event.alarms:
        return []
    return [RecordSignal(signal_type=AlarmType.LOW_BATTERY, data={"battery_pct": event.battery_pct})]


RULES = (device_alarm_rule, sensor_rule, geofence_rule, vitals_rule, battery_rule)


def evaluate(event: Any, ctx: RuleContext) -> list[Decision]:
    """All alarm rules on one event (used by tests and the benchmark; the pipeline calls each)."""
    decisions: list[Decision] = []
    for rule in RULES:
        decisions.extend(rule(event, ctx))
    return decisions
