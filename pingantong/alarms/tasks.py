"""Periodic jobs of the alarm centre (Huey). All idempotent: scan and reconcile.

The 45 s escalation and the cascade's acknowledgement deadlines need finer steps than Huey's
one-minute crontab, so the web process's `alarm-relay` service also calls `supervise()` every few
seconds (see live.py); these periodic tasks are the backstop when no web process runs.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

log = logging.getLogger(__name__)


def supervise() -> dict[str, int]:
    """Escalate unclaimed alarms and move cascades whose contact did not acknowledge in time."""
    from . import actions, cascade

    escalated = actions.escalate_unclaimed()
    advanced = cascade.advance_due()
    return {"escalated": len(escalated), "advanced": advanced}


@db_task()
def escalation_followup(alarm_id: int) -> None:
    """After an escalation: start the contact cascade (the family is not kept waiting for a free
    agent) and send the supervisors' SMS. Each is idempotent, and one failing does not stop the
    other; neither undoes the escalation's mark on the screens."""
    from . import cascade, escalation

    try:
        cascade.start_cascade(alarm_id=alarm_id)
    except Exception:
        log.exception("cascade after the escalation of alarm %s failed", alarm_id)
    try:
        escalation.notify_supervisors(alarm_id=alarm_id)
    except Exception:
        log.exception("escalation SMS for alarm %s failed", alarm_id)


@db_periodic_task(crontab(minute="*"))
def supervise_alarms() -> None:
    supervise()


@db_periodic_task(crontab(minute="*/10"))
def evaluate_behaviour() -> None:
    """S26–S28: no motion all day, door open at night, per home with such sensors."""
    evaluate_behaviour_now()


def evaluate_behaviour_now(now: Any = None) -> int:
    """Run the behaviour rules over every bound motion/door sensor's last 48 h; returns alarms raised."""
    from pingantong.devices.models import Device, SensorRecord

    from .actions import join_or_raise
    from .behaviour import Reading, door_open_at_night, no_motion
    from .choices import ACTIVE_STATUSES
    from .models import Alarm, AlarmSettings

    now = now or timezone.now()
    raised = 0
    since = now - timedelta(hours=48)
    devices = Device.objects.filter(device_type_id__in=["motion", "door"], client__isnull=False)
    for device in devices.select_related("device_type"):
        client_id = getattr(device, "client_id", None)
        if client_id is None:
            continue
        readings = []
        for at, state in SensorRecord.objects.filter(device=device, recorded_at__gte=since).values_list(
            "recorded_at", "state"
        ):
            if "occupancy" in state:
                readings.append(Reading(at, "motion", bool(state["occupancy"])))
            if "contact" in state:
                readings.append(Reading(at, "door", not bool(state["contact"])))  # contact=true: closed
        cfg = AlarmSettings.objects.filter(client_id=client_id).first()
        found = [
            no_motion(
                readings, now=now, hours=cfg.no_motion_hours if cfg else 12, watched_since=device.created_at
            ),
            door_open_at_night(
                readings,
                now=now,
                minutes=cfg.door_open_night_minutes if cfg else 15,
                night_start_hour=cfg.night_start_hour if cfg else 22,
                night_end_hour=cfg.night_end_hour if cfg else 6,
            ),
        ]
        for decision in filter(None, found):
            if Alarm.objects.filter(
                client_id=client_id, status__in=ACTIVE_STATUSES, detail=decision.detail
            ).exists():
                continue  # still the same situation: one case, not one per scan
            _alarm, created = join_or_raise(
                alarm_type=decision.alarm_type,
                device=device,
                device_ident=device.identity,
                client=device.client,
                priority=decision.priority,  # type: ignore[attr-defined]
                detail=decision.detail,
                data=dict(decision.data),
            )
            raised += int(created)
    return raised
