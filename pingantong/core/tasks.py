"""Scheduled jobs of the platform core (Huey; discovered by huey.contrib.djhuey)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

log = logging.getLogger("pingantong.audit")

# I1: service records are kept at least one year. No setting may shorten that.
MINIMUM_RETENTION_DAYS = 365


def audit_retention_days() -> int:
    return max(MINIMUM_RETENTION_DAYS, int(getattr(settings, "PINGANTONG_AUDIT_RETENTION_DAYS", 0) or 0))


@transaction.atomic
def purge_old_audit_entries(*, now: datetime | None = None) -> int:
    """Delete audit entries older than the retention period, and leave an entry saying so.

    Returns the number of entries deleted. The retention is never shorter than 365 days, whatever
    PINGANTONG_AUDIT_RETENTION_DAYS says.
    """
    days = audit_retention_days()
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted, _by_model = LogEntry.objects.filter(timestamp__lt=cutoff).delete()
    if deleted:
        LogEntry.objects.create(
            content_type=ContentType.objects.get_for_model(LogEntry),
            object_pk="*",
            object_repr=f"audit entries before {cutoff:%Y-%m-%d} ×{deleted}",
            action=LogEntry.Action.DELETE,
            changes={},
            additional_data={
                "kind": "purge",
                "count": deleted,
                "cutoff": cutoff.isoformat(),
                "retention_days": days,
            },
        )
    log.info(
        "audit purge: %d entries older than %d days (before %s) deleted", deleted, days, cutoff.isoformat()
    )
    return deleted


@db_periodic_task(crontab(hour="3", minute="17"))
def purge_audit_log() -> int:
    """Nightly: keep the audit log to its retention period (I1, X2)."""
    return purge_old_audit_entries()
