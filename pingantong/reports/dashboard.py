"""The bureau's and the agency's dashboard (issue 9 item 4): live counts, trends, towns and a map.

Every figure is an aggregate computed in the database (counts per village, averages of home
coordinates per village), never a row per client, so the page stays cheap with 100,000 clients.
The whole result is cached for 60 s per region: a dashboard left open on a wall screen must not
re-aggregate the district on every refresh.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from django.core.cache import cache
from django.db.models import Avg, Count
from django.utils import timezone

from .periods import month_start
from .progress import annual_summary

CACHE_SECONDS = 60


def _silent_devices(prefix: str, now: datetime) -> int:
    """Bound devices silent beyond their type's device threshold (decision 0071), one query per type."""
    from pingantong.devices.models import Device, DeviceType
    from pingantong.inventory.selectors import device_silence_threshold

    total = 0
    for device_type in DeviceType.objects.select_related("profile"):
        cutoff = now - device_silence_threshold(device_type)
        total += Device.objects.filter(
            device_type=device_type,
            client__region__code__startswith=prefix,
            state__last_device_seen_at__lt=cutoff,
        ).count()
    return total


def _compute(region_code: str, now: datetime) -> dict:
    from pingantong.alarms.choices import AlarmStatus
    from pingantong.alarms.models import Alarm
    from pingantong.care.choices import ACTIVE_STATUSES
    from pingantong.care.models import Task
    from pingantong.clients.choices import ClientStatus
    from pingantong.clients.models import Client
    from pingantong.regions.models import Region, RegionLevel, prefix_of

    prefix = prefix_of(region_code)
    active = Client.objects.filter(region__code__startswith=prefix, status=ClientStatus.ACTIVE)
    per_village = {
        row["region_id"]: row
        for row in active.values("region_id").annotate(
            n=Count("pk"), lat=Avg("home_lat"), lon=Avg("home_lon")
        )
    }
    open_alarms = Counter(
        dict(
            Alarm.objects.filter(region__code__startswith=prefix)
            .exclude(status=AlarmStatus.CLOSED)
            .values("region_id")
            .annotate(n=Count("pk"))
            .values_list("region_id", "n")
        )
    )
    overdue = Task.objects.filter(
        region__code__startswith=prefix, status__in=ACTIVE_STATUSES, due_at__lt=now
    ).count()
    names: dict[str, str] = {}
    towns: dict[str, dict] = {}
    for code, name, level in (
        Region.objects.filter(code__startswith=prefix, level__in=[RegionLevel.TOWN, RegionLevel.VILLAGE])
        .order_by("code")
        .values_list("code", "name", "level")
    ):
        names[code] = name
        if level == RegionLevel.TOWN:
            towns[code[:9]] = {"code": code, "name": name, "clients": 0, "open_alarms": 0}
    for village, row in per_village.items():
        if village[:9] in towns:
            towns[village[:9]]["clients"] += row["n"]
    for village, n in open_alarms.items():
        if village[:9] in towns:
            towns[village[:9]]["open_alarms"] += n
    points = [
        {"name": names.get(code, code), "count": row["n"], "lat": row["lat"], "lon": row["lon"]}
        for code, row in sorted(per_village.items())
        if row["lat"] is not None and row["lon"] is not None
    ]
    this_month = month_start(timezone.localdate(now))
    trend = annual_summary(region_code=region_code, year=this_month.year, until=this_month)
    return {
        "computed_at": now,
        "active_clients": sum(row["n"] for row in per_village.values()),
        "open_alarms": sum(open_alarms.values()),
        "overdue_tasks": overdue,
        "silent_devices": _silent_devices(prefix, now),
        "towns": list(towns.values()),
        "points": points,
        "trend": trend,
    }


def dashboard_figures(*, region_code: str, now: datetime | None = None) -> dict:
    """The dashboard's figures for a region, from the cache when computed in the last 60 s."""
    key = f"reports:dashboard:{region_code}"
    figures = cache.get(key)
    if figures is None:
        figures = _compute(region_code, now or timezone.now())
        cache.set(key, figures, CACHE_SECONDS)
    return figures
