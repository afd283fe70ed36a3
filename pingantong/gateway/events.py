"""The normalised device event every protocol codec produces.

`DeviceEvent.to_json()` is a public contract (docs/architecture.md, "DeviceEvent JSON fields"): the
`decode` command prints it and tools outside the code read it, so its keys never change. Extras that
are useful downstream (`serial`, `extra`) live on the object but stay out of the contract JSON unless
asked for with ``to_json(include_extra=True)``.

`device_time` is serialised as ISO-8601 UTC with a trailing ``Z`` (``2016-07-21T23:16:01Z``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ALARMS: tuple[str, ...] = (
    "sos",
    "fall",
    "removed",
    "low_battery",
    "power_cut",
    "power_off",
    "geofence_exit",
    "geofence_enter",
    "smoke",
    "gas",
    "water_leak",
    "tamper",
    "vital_abnormal",
    "no_activity",
    "device_offline",
    "fault",
    "other",
)
"""The alarm vocabulary, in priority order: sorting by this order puts an SOS first (S01)."""

KINDS: tuple[str, ...] = ("login", "heartbeat", "position", "alarm", "vitals", "sensor", "status", "other")

VITAL_KEYS: tuple[str, ...] = (
    "heart_rate_bpm",
    "bp_systolic_mmhg",
    "bp_diastolic_mmhg",
    "spo2_pct",
    "body_temp_c",
)

_ALARM_RANK = {name: rank for rank, name in enumerate(ALARMS)}
_KINDS = frozenset(KINDS)
_VITAL_KEYS = frozenset(VITAL_KEYS)


def normalise_alarms(alarms: list[str] | tuple[str, ...] | set[str]) -> list[str]:
    """De-duplicate and order alarms by priority, so `sos` is always first and never hidden."""
    unknown = [a for a in alarms if a not in _ALARM_RANK]
    if unknown:
        raise ValueError(f"not in the alarm vocabulary: {unknown}")
    return sorted(set(alarms), key=_ALARM_RANK.__getitem__)


def format_utc(value: datetime | None) -> str | None:
    """ISO-8601 in UTC with a ``Z`` suffix (seconds precision unless there are microseconds)."""
    if value is None:
        return None
    if value.tzinfo is not UTC:  # codecs already give UTC: skip the conversion (every frame)
        value = value.astimezone(UTC)
    return value.isoformat().replace("+00:00", "Z")


@dataclass(slots=True, frozen=True)
class Position:
    """A fix as the terminal reported it, WGS-84 (coordinates are converted only for display)."""

    latitude: float
    longitude: float
    valid: bool
    speed_kmh: float | None = None
    course_deg: float | None = None
    altitude_m: float | None = None
    satellites: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "latitude": self.latitude,
            "longitude": self.longitude,
            "valid": self.valid,
            "speed_kmh": self.speed_kmh,
            "course_deg": self.course_deg,
            "altitude_m": self.altitude_m,
            "satellites": self.satellites,
        }


@dataclass(slots=True)
class DeviceEvent:
    """One thing a terminal told us: a login, a heartbeat, a fix, an alarm, a measurement…

    `alarms` is kept normalised (vocabulary order, no duplicates) by `__post_init__`; `kind` is
    validated against `KINDS`. `serial` is the terminal's message serial where the protocol has one
    (JT/T 808), for de-duplicating resends without dropping distinct SOS presses. `extra` carries
    protocol details (cells, Wi-Fi, ICCID, raw RSSI…) that are not part of the contract.
    """

    protocol: str
    device_id: str
    message: str
    kind: str
    device_time: datetime | None = None
    position: Position | None = None
    alarms: list[str] = field(default_factory=list)
    battery_pct: int | None = None
    signal_pct: int | None = None
    steps: int | None = None
    vitals: dict[str, float] = field(default_factory=dict)
    sensor: dict[str, Any] | None = None
    archived: bool = False
    serial: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Runs for every frame (10,000/s at the target load): cheap checks first.
        if self.kind not in _KINDS:
            raise ValueError(f"unknown event kind {self.kind!r}")
        if self.device_time is not None and self.device_time.tzinfo is None:
            raise ValueError("device_time must be timezone-aware")
        if self.vitals and not _VITAL_KEYS.issuperset(self.vitals):
            raise ValueError(f"unknown vitals {sorted(set(self.vitals) - _VITAL_KEYS)}")
        alarms = self.alarms
        if not alarms:
            if type(alarms) is not list:
                self.alarms = []
        elif len(alarms) == 1 and type(alarms) is list and alarms[0] in _ALARM_RANK:
            pass  # one known alarm: already normalised
        else:
            self.alarms = normalise_alarms(alarms)

    def to_json(self, *, include_extra: bool = False) -> dict[str, Any]:
        """The contract dict; with `include_extra` also ``serial`` and ``extra`` (not contract)."""
        data: dict[str, Any] = {
            "protocol": self.protocol,
            "device_id": self.device_id,
            "message": self.message,
            "kind": self.kind,
            "device_time": format_utc(self.device_time),
            "position": self.position.to_json() if self.position else None,
            "alarms": list(self.alarms),
            "battery_pct": self.battery_pct,
            "signal_pct": self.signal_pct,
            "steps": self.steps,
            "vitals": {k: self.vitals[k] for k in VITAL_KEYS if k in self.vitals} if self.vitals else {},
            "sensor": self.sensor,
            "archived": self.archived,
        }
        if include_extra:
            data["serial"] = self.serial
            data["extra"] = dict(self.extra)
        return data
