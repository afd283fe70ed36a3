"""Retention of service records (I1, S09, S24), run on schedule and logged (`RetentionRun`).

- Location history: 7 days (S09), except positions within an hour of one of the device's alarms,
  which stay with the alarm's record.
- Raw frames and device events: the service-record retention, at least one year
  (PINGANTONG_SERVICE_RETENTION_DAYS, never less than 365).
- Vitals: the health record (S24) is kept while the client is served; once the service has ended,
  for the service-record retention, then purged.
Everything else (alarms, calls, visits, tasks, settlements) is never purged automatically.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from .models import RetentionRun

log = logging.getLogger("pingantong.retention")
LOCATION_DAYS = 7
ALARM_WINDOW = timedelta(hours=1)


def service_retention_days() -> int:
    return max(365, int(getattr(settings, "PINGANTONG_SERVICE_RETENTION_DAYS", 400)))


def _record(record_type: str, cutoff: datetime, deleted: int, rule: str, now: datetime) -> RetentionRun:
    log.info("retention: %s before %s: %d deleted (%s)", record_type, cutoff.isoformat(), deleted, rule)
    return RetentionRun.objects.create(
        ran_at=now, record_type=record_type, cutoff=cutoff, deleted=deleted, rule=rule
    )


def purge(*, now: datetime | None = None) -> list[RetentionRun]:
    from pingantong.alarms.models import Alarm
    from pingantong.devices.models import DeviceEventRecord, PositionRecord, RawFrame, VitalsRecord

    now = now or timezone.now()
    runs = []
    cutoff = now - timedelta(days=LOCATION_DAYS)
    near_alarm = Alarm.objects.filter(
        device_id=OuterRef("device_id"),
        raised_at__gte=OuterRef("recorded_at") - ALARM_WINDOW,
        raised_at__lte=OuterRef("recorded_at") + ALARM_WINDOW,
    )
    old_positions = PositionRecord.objects.filter(recorded_at__lt=cutoff).exclude(Exists(near_alarm))
    deleted, _ = old_positions.delete()
    runs.append(_record("position", cutoff, deleted, "S09: 7 days, except around alarms", now))

    service_cutoff = now - timedelta(days=service_retention_days())
    deleted_events, _ = DeviceEventRecord.objects.filter(received_at__lt=service_cutoff).delete()
    runs.append(_record("device_event", service_cutoff, deleted_events, "I1: service records", now))
    deleted_frames, _ = RawFrame.objects.filter(received_at__lt=service_cutoff).delete()
    runs.append(_record("raw_frame", service_cutoff, deleted_frames, "I1: service records", now))
    ended = VitalsRecord.objects.filter(
        device__client__service_end_date__isnull=False,
        device__client__service_end_date__lt=service_cutoff.date(),
    )
    deleted_vitals, _ = ended.delete()
    runs.append(_record("vitals", service_cutoff, deleted_vitals, "S24: kept while served, then I1", now))
    return runs
