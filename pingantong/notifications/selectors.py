"""Reads of the notifications app, and the small adapters onto the clients and devices apps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from .choices import MessageStatus
from .models import Broadcast, Message


def stranded_message_ids(now: datetime | None = None, limit: int = 500) -> list[int]:
    now = now or timezone.now()
    return list(
        Message.objects.filter(status=MessageStatus.QUEUED)
        .filter(
            Q(next_attempt_at__lte=now)
            | Q(next_attempt_at__isnull=True, queued_at__lte=now - timedelta(minutes=5))
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .values_list("pk", flat=True)[:limit]
    )


def status_counts(messages: QuerySet[Message]) -> dict[str, int]:
    counts = dict.fromkeys(MessageStatus.values, 0)
    for row in messages.values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts


def broadcast_report(broadcast: Broadcast) -> dict[str, Any]:
    counts = status_counts(broadcast.messages.all())
    failures = list(
        broadcast.messages.filter(status=MessageStatus.FAILED)
        .values("failure_code")
        .annotate(n=Count("id"))
        .order_by("-n")[:10]
    )
    reached = counts[MessageStatus.DELIVERED] + counts[MessageStatus.ACKNOWLEDGED]
    rows = [(MessageStatus(status).label, n) for status, n in counts.items()]
    return {
        "counts": counts,
        "rows": rows,
        "failures": failures,
        "reached": reached,
        "total": broadcast.total,
    }


def broadcast_clients(broadcast: Broadcast) -> Any:
    """The active clients a broadcast targets: in its region, of its categories and device types."""
    from pingantong.clients.choices import ClientStatus
    from pingantong.clients.models import Client
    from pingantong.clients.selectors import filter_category
    from pingantong.regions.models import prefix_of

    qs: Any = Client.objects.filter(
        status=ClientStatus.ACTIVE, region__code__startswith=prefix_of(broadcast.region_id)
    )
    if broadcast.categories:
        qs = filter_category(qs, broadcast.categories)
    if broadcast.device_types:
        qs = filter_device_types(qs, broadcast.device_types)
    return qs.order_by("pk")


def filter_device_types(qs: QuerySet[Any], device_types: list[str]) -> QuerySet[Any]:
    """Clients with an active device of one of these types, by whatever link the devices app has."""
    from pingantong.devices.models import Device

    names = {f.name for f in Device._meta.get_fields()}
    if "client" in names:
        lookup: dict[str, Any] = {
            "device_type_id__in": device_types,
            "client__isnull": False,
            "status": "active",
        }
        ids = Device.objects.filter(**lookup).values("client_id")
        return qs.filter(pk__in=ids)
    return qs.none()


@dataclass(frozen=True)
class Position:
    latitude: float
    longitude: float
    at: datetime | None
    source: str  # "device" or "home"


def latest_position(client: Any) -> Position | None:
    """The client's latest known position (WGS-84): the freshest valid device fix, else home.

    Kept small on purpose: it is the one place to adapt when the devices app's binding changes.
    """
    from pingantong.devices.models import Device, DeviceState

    names = {f.name for f in Device._meta.get_fields()}
    if "client" in names:
        lookup: dict[str, Any] = {
            "device__client": client,
            "latitude__isnull": False,
            "longitude__isnull": False,
            "position_valid": True,
        }
        state = DeviceState.objects.filter(**lookup).order_by("-position_at").first()
        if state is not None and state.latitude is not None and state.longitude is not None:
            return Position(state.latitude, state.longitude, state.position_at, "device")
    if getattr(client, "home_lat", None) is not None and getattr(client, "home_lon", None) is not None:
        return Position(client.home_lat, client.home_lon, None, "home")
    return None
