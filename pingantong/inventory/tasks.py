"""Periodic jobs (Huey): device supervision every 10 minutes, the weekly check on Monday morning.
Both are idempotent, so a retry or an overlapping run opens no duplicate task."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .actions import run_weekly_check, supervise_devices


@db_periodic_task(crontab(minute="*/10"))
def supervise_devices_periodically() -> int:
    return len(supervise_devices())


@db_periodic_task(crontab(day_of_week="1", hour="1", minute="30"))
def weekly_device_check() -> int:
    """Monday 01:30 UTC = 09:30 Beijing time, when field staff can act on the check tasks."""
    return len(run_weekly_check())
