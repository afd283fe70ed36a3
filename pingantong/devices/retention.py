"""Retention of the telemetry tables (S09: location history at least 7 days; PIPL: no longer than
needed). Deletes by time in small batches so the gateway's writers are never blocked for long; on
PostgreSQL the plan is to drop monthly partitions instead (docs/gateway.md)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

DEFAULT_DAYS = {
    "PositionRecord": 180,
    "RawFrame": 180,
    "SensorRecord": 365,
    "VitalsRecord": 730,
    "DeviceEventRecord": 730,
    "LifeSign": 730,
}
MIN_POSITION_DAYS = 7  # S09


def retention_days() -> dict[str, int]:
    days = {**DEFAULT_DAYS, **getattr(settings, "PINGANTONG_TELEMETRY_RETENTION_DAYS", {})}
    days["PositionRecord"] = max(MIN_POSITION_DAYS, days["PositionRecord"])
    return days


def purge_telemetry(*, now: datetime | None = None, batch: int = 10_000) -> dict[str, int]:
    """Delete rows older than their retention; returns the count per model."""
    from pingantong.devices import models

    now = now or timezone.now()
    time_field = {"RawFrame": "received_at", "DeviceEventRecord": "received_at", "LifeSign": "occurred_at"}
    deleted: dict[str, int] = {}
    for name, days in retention_days().items():
        model = getattr(models, name)
        field = time_field.get(name, "recorded_at")
        cutoff = now - timedelta(days=days)
        total = 0
        while True:
            ids = list(model.objects.filter(**{f"{field}__lt": cutoff}).values_list("pk", flat=True)[:batch])
            if not ids:
                break
            with transaction.atomic():
                total += model.objects.filter(pk__in=ids).delete()[0]
        deleted[name] = total
    return deleted
