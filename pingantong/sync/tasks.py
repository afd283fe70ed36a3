"""Scheduled jobs of the provincial sync (Huey): delivery every minute, reconciliation daily."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from .adapter import DeliveryError
from .delivery import deliver_pending, reconcile

log = logging.getLogger("pingantong.sync")
DISTRICT = "350404000000"


@db_periodic_task(crontab(minute="*"))
@lock_task("sync-deliver")
def deliver_outbox() -> dict:
    return deliver_pending()


@db_periodic_task(crontab(hour="3", minute="15"))
def reconcile_yesterday() -> None:
    try:
        reconcile(day=timezone.localdate() - timedelta(days=1), region_code=DISTRICT)
    except DeliveryError as exc:
        log.warning("reconciliation skipped: %s", exc)
