"""Reads of the inventory app: device health for supervision, what a client has and may choose."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pingantong.devices.models import Device, DeviceEventRecord, DeviceStatus, DeviceType

from .choices import HealthProblem, StockState
from .models import DeviceTypeProfile, StockItem

LOW_BATTERY_PCT = 20
ALARM_LOOKBACK = dt.timedelta(hours=24)


def device_silence_threshold(device_type: DeviceType) -> dt.timedelta:
    """How long a device of this type may be silent before it counts as faulty: the type's profile
    (device heartbeat), else the type's own silence threshold."""
    try:
        profile = device_type.profile  # type: ignore[attr-defined]
    except DeviceTypeProfile.DoesNotExist:
        profile = None
    seconds = profile.device_silence_s if profile is not None else device_type.silence_threshold_s
    return dt.timedelta(seconds=seconds)


@dataclass
class DeviceHealth:
    device: Device
    last_message_at: dt.datetime | None
    battery_pct: int | None
    signal_pct: int | None
    silent_for: dt.timedelta | None
    threshold: dt.timedelta
    problems: list[str] = field(default_factory=list)

    @property
    def silent_hours(self) -> float | None:
        return self.silent_for.total_seconds() / 3600 if self.silent_for is not None else None

    @property
    def threshold_hours(self) -> float:
        return self.threshold.total_seconds() / 3600

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def needs_maintenance(self) -> bool:
        return bool(
            {HealthProblem.SILENT, HealthProblem.FAULT, HealthProblem.NEVER_REPORTED} & set(self.problems)
        )


def supervised_devices(*, with_client: bool = True) -> Any:
    """Every device serving a client: bound and active (the sweep needs no client rows)."""
    related = ["device_type__profile", "state", "stock_item"] + (["client"] if with_client else [])
    return (
        Device.objects.filter(client__isnull=False, status=DeviceStatus.ACTIVE)
        .select_related(*related)
        .order_by("client_id", "pk")
    )


def _latest_alarms(device_ids: list[int], since: dt.datetime) -> dict[int, list[str]]:
    latest: dict[int, tuple[dt.datetime, list[str]]] = {}
    wanted = set(device_ids)
    rows = DeviceEventRecord.objects.filter(kind="alarm", received_at__gte=since, device__isnull=False)
    if len(wanted) <= 500:  # a short IN list; a sweep over the fleet reads the window instead
        rows = rows.filter(device_id__in=wanted)
    for device_id, at, alarms in rows.values_list("device_id", "received_at", "alarms"):
        if device_id not in wanted:
            continue
        if device_id not in latest or at > latest[device_id][0]:
            latest[device_id] = (at, list(alarms or []))
    return {k: v[1] for k, v in latest.items()}


def health_of(devices: Iterable[Device], now: dt.datetime) -> list[DeviceHealth]:
    """Each device's health: last message, battery, signal, silence against its type, taken off,
    low battery, fault (two queries however many devices: the devices and the recent alarms)."""
    devices = list(devices)
    alarms = _latest_alarms([d.pk for d in devices], now - ALARM_LOOKBACK)
    out = []
    for device in devices:
        state = getattr(device, "state", None)
        seen = (state.last_device_seen_at or state.last_message_at) if state is not None else None
        threshold = device_silence_threshold(device.device_type)
        health = DeviceHealth(
            device=device,
            last_message_at=seen,
            battery_pct=state.battery_pct if state is not None else None,
            signal_pct=state.signal_pct if state is not None else None,
            silent_for=(now - seen) if seen is not None else None,
            threshold=threshold,
        )
        item = getattr(device, "stock_item", None)
        if seen is None:
            health.problems.append(HealthProblem.NEVER_REPORTED)
        elif now - seen > threshold:
            health.problems.append(HealthProblem.SILENT)
        recent = alarms.get(device.pk, [])
        if (
            health.battery_pct is not None and health.battery_pct < LOW_BATTERY_PCT
        ) or "low_battery" in recent:
            health.problems.append(HealthProblem.LOW_BATTERY)
        if "removed" in recent:
            health.problems.append(HealthProblem.REMOVED)
        if "fault" in recent or (item is not None and item.state == StockState.FAULTY):
            health.problems.append(HealthProblem.FAULT)
        out.append(health)
    return out


def maintenance_candidates(now: dt.datetime) -> Any:
    """The supervised devices that *may* need maintenance, filtered in the database: silent beyond
    their type's threshold, never heard, faulty in stock, or with a recent fault alarm. The sweep
    then applies `health_of` to these only (the same rules, a fraction of the rows)."""
    from django.db.models import Q

    q = (
        Q(state__isnull=True)
        | Q(state__last_device_seen_at__isnull=True)
        | Q(stock_item__state=StockState.FAULTY)
    )
    for device_type in DeviceType.objects.select_related("profile"):
        cutoff = now - device_silence_threshold(device_type)
        q |= Q(device_type_id=device_type.pk, state__last_device_seen_at__lt=cutoff)
    recent = DeviceEventRecord.objects.filter(
        kind="alarm", received_at__gte=now - ALARM_LOOKBACK, device__isnull=False
    ).values_list("device_id", "alarms")
    faulty = sorted({device_id for device_id, alarms in recent if "fault" in (alarms or [])})
    if faulty:
        q |= Q(pk__in=faulty)
    return supervised_devices(with_client=False).filter(q)


def health_of_device(device: Device, now: dt.datetime) -> DeviceHealth:
    return health_of([device], now)[0]


@dataclass(frozen=True)
class TypeChoice:
    profile: DeviceTypeProfile
    has: int
    """How many devices of this type the client has (assigned or installed)."""
    recommended: bool
    reason: str


def device_choices_for_client(client: Any) -> list[TypeChoice]:
    """The types the agency offers (D2), which of them the client has, and which the latest home
    test recommended."""
    from .models import Installation

    counts: dict[str, int] = {}
    for code in StockItem.objects.filter(
        client=client, state__in=[StockState.ASSIGNED, StockState.INSTALLED]
    ).values_list("device_model__device_type_id", flat=True):
        counts[code] = counts.get(code, 0) + 1
    latest = (
        Installation.objects.filter(client=client, tested_at__isnull=False).order_by("-tested_at").first()
    )
    reasons = dict(latest.recommendation_reasons) if latest is not None else {}
    profiles = DeviceTypeProfile.objects.filter(offered=True).select_related("device_type")
    return [
        TypeChoice(
            p, counts.get(p.device_type_id, 0), p.device_type_id in reasons, reasons.get(p.device_type_id, "")
        )
        for p in profiles
    ]
