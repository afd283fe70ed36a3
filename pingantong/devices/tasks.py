"""Scheduled jobs of the devices app (Huey)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from pingantong.devices.retention import purge_telemetry


@db_periodic_task(crontab(hour="3", minute="17"))
def purge_telemetry_daily() -> dict[str, int]:
    """Every night at 03:17: telemetry past its retention is deleted in batches."""
    return purge_telemetry()
