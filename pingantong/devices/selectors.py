"""Reads of the devices app (STYLE.md: reads through selectors)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Case, F, Q, QuerySet, When

from pingantong.devices.models import Device, DeviceState, DownlinkCommand, LifeSign, PositionRecord


@dataclass(frozen=True, slots=True)
class ClientLifeSign:
    """The latest proof that a client (the person) is alive, over all their devices."""

    client_id: Any
    last_life_sign_at: datetime | None
    source: str
    device_id: int | None
    last_device_seen_at: datetime | None
    """The latest any of their devices was heard at all (device alive, person not proven)."""


def life_sign_of_current_binding(prefix: str = "") -> Q:
    """DeviceState rows whose life sign happened within the device's current binding (Q1, S04–S06).

    A device re-bound from one client to another carries the previous client's proof of life; the
    binding actions clear it, and every reader adds this guard too, so a sign written by any other
    path still counts only for the client it belongs to (decision 0111). `prefix` reaches DeviceState
    through a relation (e.g. "state__")."""
    return Q(**{f"{prefix}bound_at__isnull": True}) | Q(
        **{f"{prefix}last_life_sign_at__gte": F(f"{prefix}bound_at")}
    )


def current_life_sign_at(prefix: str = "") -> Case:
    """`last_life_sign_at` when it belongs to the current binding, else NULL (for value reads)."""
    current = When(life_sign_of_current_binding(prefix), then=F(f"{prefix}last_life_sign_at"))
    return Case(current, default=None)


def last_life_sign_for_client(client_id: Any) -> ClientLifeSign:
    """What the care rules (S04–S06, Q1) read: the newest `last_life_sign_at` of the client's
    devices (within each device's current binding), its source, and separately when a device was
    last heard at all."""
    states = list(
        DeviceState.objects.filter(device__client_id=client_id)
        .annotate(life_at=current_life_sign_at())
        .values_list("device_id", "life_at", "last_life_sign_source", "last_device_seen_at")
    )
    best: tuple[int | None, datetime | None, str] = (None, None, "")
    seen: datetime | None = None
    for device_id, at, source, device_seen in states:
        if at is not None and (best[1] is None or at > best[1]):
            best = (device_id, at, source)
        if device_seen is not None and (seen is None or device_seen > seen):
            seen = device_seen
    return ClientLifeSign(client_id, best[1], best[2], best[0], seen)


def life_sign_history_for_client(client_id: Any, since: datetime | None = None) -> QuerySet[LifeSign]:
    """A client's device life signs, newest first, from every device they wore, including the ones
    since bound to someone else (the history names the client bound when each sign happened)."""
    qs = LifeSign.objects.filter(client_id=client_id)
    if since is not None:
        qs = qs.filter(occurred_at__gte=since)
    return qs.order_by("-occurred_at")


def devices_of_client(client_id: Any) -> QuerySet[Device]:
    return Device.objects.filter(client_id=client_id).select_related("device_type", "state")


def positions_of_device(
    device_id: int, since: datetime, until: datetime | None = None
) -> QuerySet[PositionRecord]:
    """A device's track (an index range scan on (device, recorded_at))."""
    qs = PositionRecord.objects.filter(device_id=device_id, recorded_at__gte=since)
    if until is not None:
        qs = qs.filter(recorded_at__lt=until)
    return qs.order_by("recorded_at")


def commands_of_device(device_id: int) -> QuerySet[DownlinkCommand]:
    return DownlinkCommand.objects.filter(device_id=device_id).order_by("-created_at")
