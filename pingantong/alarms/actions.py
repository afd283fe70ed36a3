"""Every write of the alarm centre: raise, join, claim, record a step, escalate, close, review.

Each action is keyword-only, runs in one transaction and records its own `AlarmStep`, so the timeline
is complete by construction (S02). Side effects (live push to consoles, the contact cascade, the
on-site visit task) are scheduled with `transaction.on_commit`: nothing is pushed for a change that
was rolled back, and a slow SMS gateway never holds a database lock.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pingantong.core.access import user_may

from .choices import (
    ACTIVE_STATUSES,
    DEFAULT_PRIORITY,
    MANUAL_STEPS,
    SERIOUS_OUTCOMES,
    UNCLAIMED_STATUSES,
    AlarmStatus,
    AlarmType,
    Outcome,
    StepKind,
)
from .models import Alarm, AlarmStep, Signal

log = logging.getLogger(__name__)

DEFAULT_DISTRICT = "350404000000"


def join_window_seconds(region_code: str | None = None) -> int:
    """Repeats within this many seconds of an active alarm's last occurrence join it (the region's
    alarm-centre settings, else `PINGANTONG_ALARM_JOIN_WINDOW_SECONDS`)."""
    from .centre import settings_for

    return settings_for(region_code).join_window_seconds


def escalate_after_seconds(region_code: str | None = None) -> int:
    """Unclaimed alarms go to the supervisor after this many seconds (DOMAIN.md: 45 s default;
    the region's alarm-centre settings, else `PINGANTONG_ALARM_ESCALATE_SECONDS`)."""
    from .centre import settings_for

    return settings_for(region_code).escalate_after_seconds


def district_code() -> str:
    return str(getattr(settings, "PINGANTONG_DISTRICT_CODE", DEFAULT_DISTRICT))


class AlarmAlreadyClaimed(ValidationError):
    """Another agent was faster: the alarm is theirs."""


def _after_commit_push(alarm_id: int, event: str, alarm: Alarm | None = None) -> None:
    """Push the alarm's row to the consoles straight after the commit. `alarm` (a just-created,
    complete instance) saves the push re-reading the row."""
    from . import live

    transaction.on_commit(lambda: live.push_alarm(alarm_id, event=event, alarm=alarm))


def record_step(
    *,
    alarm: Alarm,
    kind: str,
    actor: Any = None,
    actor_label: str = "",
    note: str = "",
    data: Mapping[str, Any] | None = None,
    at: datetime | None = None,
    touch: bool = True,
    push_instance: bool = False,
) -> AlarmStep:
    """Append one timestamped step to the alarm's timeline (and push the change to consoles).
    `touch=False` when the caller has just written the alarm row (its `updated_at` is fresh);
    `push_instance=True` pushes `alarm` as it is in memory instead of re-reading it."""
    if kind not in StepKind.values:
        raise ValidationError({"kind": _("Unknown step %(kind)s.") % {"kind": kind}})
    step = AlarmStep.objects.create(
        alarm=alarm,
        kind=kind,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_label=actor_label[:40],
        note=note,
        data=dict(data or {}),
        at=at or timezone.now(),
    )
    if touch:
        Alarm.objects.filter(pk=alarm.pk).update(updated_at=timezone.now())
    _after_commit_push(alarm.pk, kind, alarm if push_instance else None)
    return step


def record_manual_step(
    *, alarm_id: int, user: Any, kind: str, note: str = "", data: Mapping | None = None
) -> AlarmStep:
    """A one-click action from the alarm screen (called the client back, called 120 …)."""
    if kind not in MANUAL_STEPS:
        raise ValidationError({"kind": _("This step cannot be recorded by hand.")})
    with transaction.atomic():
        alarm = Alarm.objects.select_for_update().get(pk=alarm_id)
        if not user_may(user, "change", alarm):
            raise PermissionDenied
        if alarm.status == AlarmStatus.CLOSED:
            raise ValidationError(_("This alarm is closed."))
        return record_step(alarm=alarm, kind=kind, actor=user, note=note, data=data)


def raise_alarm(
    *,
    alarm_type: str,
    region_code: str | None = None,
    device_ident: str = "",
    device: Any = None,
    device_id: int | None = None,
    client: Any = None,
    priority: int | None = None,
    detail: str = "",
    from_unbound_device: bool = False,
    source_event_id: str | int | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    actor: Any = None,
    actor_label: str = "gateway",
    at: datetime | None = None,
    data: Mapping[str, Any] | None = None,
) -> Alarm:
    """Put a new alarm in the queue. An unbound device's alarm is kept at the district (public
    contract: nobody's call for help is dropped)."""
    if alarm_type not in AlarmType.values:
        raise ValidationError({"alarm_type": _("Not in the alarm vocabulary: %(t)s") % {"t": alarm_type}})
    now = at or timezone.now()
    region = region_code or (client.region_id if client is not None else None) or district_code()
    # No savepoint when nested (the rules engine's applier transaction, join_or_raise): a failure
    # rolls the whole applier back anyway, and each savepoint is a round trip on the SOS path.
    with transaction.atomic(savepoint=False):
        alarm = Alarm.objects.create(
            alarm_type=alarm_type,
            detail=detail[:60],
            priority=priority or DEFAULT_PRIORITY.get(alarm_type, 3),
            device_ident=device_ident or (getattr(device, "identity", "") or ""),
            device_id=device.pk if device is not None else device_id,
            client=client,
            region_id=region,
            from_unbound_device=from_unbound_device or client is None,
            raised_at=now,
            last_occurrence_at=now,
            source_event_ids=[str(source_event_id)] if source_event_id is not None else [],
            latitude=latitude,
            longitude=longitude,
        )
        record_step(
            alarm=alarm,
            kind=StepKind.RAISED,
            actor=actor,
            actor_label=actor_label,
            at=now,
            note=detail,
            data={"source_event_id": source_event_id, **dict(data or {})},
            touch=False,
            push_instance=True,
        )
    return alarm


def _urgency(alarm_type: str) -> int:
    return DEFAULT_PRIORITY.get(alarm_type, 3)


def join_or_raise(
    *,
    alarm_type: str,
    device_ident: str = "",
    device: Any = None,
    device_id: int | None = None,
    client: Any = None,
    region_code: str | None = None,
    priority: int | None = None,
    detail: str = "",
    from_unbound_device: bool = False,
    source_event_id: str | int | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    at: datetime | None = None,
    data: Mapping[str, Any] | None = None,
) -> tuple[Alarm, bool]:
    """Raise an alarm, or, when this client (or this unbound device) already has an active alarm that
    occurred within the join window, join it: count the repeat and raise its priority by one, so a
    client pressing SOS five times is one case climbing the queue, not five cases flooding it.
    Returns (alarm, created)."""
    now = at or timezone.now()
    region_hint = region_code or (getattr(client, "region_id", None) if client is not None else None)
    since = now - timedelta(seconds=join_window_seconds(region_hint))
    with transaction.atomic(savepoint=False):
        candidates = Alarm.objects.select_for_update().filter(
            status__in=ACTIVE_STATUSES, last_occurrence_at__gte=since
        )
        if client is not None:
            candidates = candidates.filter(client=client)
        elif device_ident:
            candidates = candidates.filter(client__isnull=True, device_ident=device_ident)
        else:
            candidates = candidates.none()
        existing = candidates.order_by("priority", "raised_at").first()
        if existing is None:
            alarm = raise_alarm(
                alarm_type=alarm_type,
                region_code=region_code,
                device_ident=device_ident,
                device=device,
                device_id=device_id,
                client=client,
                priority=priority,
                detail=detail,
                from_unbound_device=from_unbound_device,
                source_event_id=source_event_id,
                latitude=latitude,
                longitude=longitude,
                at=now,
                data=data,
            )
            return alarm, True
        new_priority = priority or _urgency(alarm_type)
        existing.priority = max(1, min(existing.priority, new_priority) - 1)
        existing.occurrences += 1
        existing.last_occurrence_at = now
        update = ["priority", "occurrences", "last_occurrence_at", "updated_at"]
        if _urgency(alarm_type) < _urgency(existing.alarm_type):
            existing.alarm_type = alarm_type  # an SOS after a "removed" makes the case an SOS
            existing.detail = detail[:60]
            update += ["alarm_type", "detail"]
        if source_event_id is not None:
            existing.source_event_ids = [*existing.source_event_ids, str(source_event_id)][-50:]
            update.append("source_event_ids")
        if latitude is not None and longitude is not None:
            existing.latitude, existing.longitude = latitude, longitude
            update += ["latitude", "longitude"]
        existing.save(update_fields=update)
        record_step(
            alarm=existing,
            kind=StepKind.REPEATED,
            actor_label="gateway",
            touch=False,  # saved just above, updated_at included
            at=now,
            note=detail,
            data={
                "alarm_type": alarm_type,
                "source_event_id": source_event_id,
                "priority": existing.priority,
            },
        )
        return existing, False


def record_signal(
    *,
    signal_type: str,
    device_ident: str,
    device: Any = None,
    device_id: int | None = None,
    client: Any = None,
    client_id: Any = None,
    region_code: str | None = None,
    source_event_id: str | int | None = None,
    data: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> Signal:
    """Record a device condition that needs no human now (low battery, powered off …)."""
    if client is None and client_id is not None:
        from pingantong.clients.models import Client

        client = Client.objects.filter(pk=client_id).first()
    region = region_code or (client.region_id if client is not None else None) or district_code()
    return Signal.objects.create(
        signal_type=signal_type,
        device_ident=device_ident,
        device_id=device.pk if device is not None else device_id,
        client=client,
        region_id=region,
        recorded_at=at or timezone.now(),
        source_event_id="" if source_event_id is None else str(source_event_id),
        data=dict(data or {}),
    )


def claim_alarm(*, alarm_id: int, user: Any) -> Alarm:
    """Take an alarm: exactly one agent wins. The conditional UPDATE (status still unclaimed) is
    atomic in the database, so two agents clicking at once cannot both get it."""
    alarm = Alarm.objects.get(pk=alarm_id)
    if not user_may(user, "claim", alarm):
        raise PermissionDenied(_("You may not take alarms in this region."))
    now = timezone.now()
    with transaction.atomic():
        won = Alarm.objects.filter(pk=alarm_id, status__in=UNCLAIMED_STATUSES).update(
            status=AlarmStatus.CLAIMED, claimed_by=user, claimed_at=now, updated_at=now
        )
        if not won:
            alarm.refresh_from_db()
            raise AlarmAlreadyClaimed(
                _("Already taken by %(who)s.") % {"who": alarm.claimed_by or _("someone else")}
                if alarm.status == AlarmStatus.CLAIMED
                else _("This alarm is closed.")
            )
        alarm.refresh_from_db()
        record_step(alarm=alarm, kind=StepKind.CLAIMED, actor=user, at=now)
        _start_cascade_after_commit(alarm)
    return alarm


def _start_cascade_after_commit(alarm: Alarm) -> None:
    from . import cascade

    transaction.on_commit(lambda: cascade.start_cascade(alarm_id=alarm.pk))


def escalate_unclaimed(*, now: datetime | None = None, after_seconds: int | None = None) -> list[int]:
    """Alarms still open after their region's escalation time go to the supervisor (DOMAIN.md:
    overflow): marked on every screen, and an SMS to the supervisors on shift (escalation.py).
    Idempotent: an escalated alarm is not escalated again. The contact cascade starts too, so the
    family is not kept waiting for a free agent. `after_seconds` overrides every region's time.

    The marks of one pass are written in one transaction, in a turn at SQLite's write lock
    (`writer_turn`) like the gateway's writers; the pushes to the consoles, the cascade and the
    SMS come after it (decision 0123). This pass runs every few seconds in the web process —
    in the embedded mode the gateway's — and writing each alarm in a transaction of its own,
    sending in between, kept the next SOS's alarm waiting for the write lock for seconds."""
    from pingantong.gateway.ingest.writelock import writer_turn

    from .centre import settings_for, shortest_escalation_seconds

    now = now or timezone.now()
    shortest = shortest_escalation_seconds() if after_seconds is None else after_seconds
    candidates = list(
        Alarm.objects.filter(
            status=AlarmStatus.OPEN,
            escalated_at__isnull=True,
            raised_at__lte=now - timedelta(seconds=shortest),
        ).values_list("pk", "region_id", "raised_at")[:500]
    )
    due: list[tuple[int, int, datetime]] = []
    for alarm_id, region_id, raised_at in candidates:
        limit = after_seconds if after_seconds is not None else settings_for(region_id).escalate_after_seconds
        if raised_at <= now - timedelta(seconds=limit):
            due.append((alarm_id, limit, raised_at))
    if not due:
        return []
    escalated: list[int] = []
    with writer_turn(), transaction.atomic():
        for alarm_id, limit, raised_at in due:
            if not Alarm.objects.filter(
                pk=alarm_id, status=AlarmStatus.OPEN, escalated_at__isnull=True
            ).update(escalated_at=now, updated_at=now):
                continue
            waited = int((now - raised_at).total_seconds())
            AlarmStep.objects.create(
                alarm_id=alarm_id,
                kind=StepKind.ESCALATED,
                actor_label="supervision",
                at=now,
                note=_("Unclaimed for %(s)s s") % {"s": waited},
                data={"waited_s": waited, "limit_s": limit},
            )
            escalated.append(alarm_id)
    for alarm_id in escalated:
        _after_commit_push(alarm_id, StepKind.ESCALATED)
        _escalation_followup_after_commit(alarm_id)
    return escalated


def _escalation_followup_after_commit(alarm_id: int) -> None:
    """The contact cascade and the supervisors' SMS of an escalation, handed to the task worker
    after the commit (decision 0123): the escalation pass runs every few seconds in the web
    process, which in the embedded mode is also the gateway's, and sending there held SQLite's
    write lock for seconds under load, in front of the next SOS's alarm."""
    from .tasks import escalation_followup

    transaction.on_commit(lambda: escalation_followup(alarm_id))


def close_alarm(*, alarm_id: int, user: Any, outcome: str, note: str = "", visit_due_hours: int = 2) -> Alarm:
    """Close the loop (S02): an outcome is required, and a note for anything but a false alarm.
    Serious outcomes wait for a supervisor's review; "cannot close remotely" opens an on-site visit
    task with a deadline (S03)."""
    errors: dict[str, str] = {}
    if outcome not in Outcome.values:
        errors["outcome"] = _("Choose an outcome.")
    if outcome != Outcome.FALSE_ALARM and not note.strip():
        errors["note"] = _("Write what happened.")
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        alarm = Alarm.objects.select_for_update().get(pk=alarm_id)
        if not user_may(user, "change", alarm):
            raise PermissionDenied
        if alarm.status == AlarmStatus.CLOSED:
            raise ValidationError(_("This alarm is already closed."))
        if alarm.claimed_by_id is None:
            alarm.claimed_by, alarm.claimed_at = user, now
            record_step(alarm=alarm, kind=StepKind.CLAIMED, actor=user, at=now)
        alarm.status = AlarmStatus.CLOSED
        alarm.closed_at, alarm.closed_by = now, user
        alarm.outcome, alarm.note = outcome, note.strip()
        alarm.review_required = outcome in SERIOUS_OUTCOMES
        alarm.save(
            update_fields=[
                "status",
                "closed_at",
                "closed_by",
                "outcome",
                "note",
                "review_required",
                "claimed_by",
                "claimed_at",
                "updated_at",
            ]
        )
        if outcome == Outcome.ONSITE_VISIT:
            _open_visit_task(alarm, user=user, due=now + timedelta(hours=visit_due_hours), note=note)
        record_step(
            alarm=alarm, kind=StepKind.CLOSED, actor=user, at=now, note=note, data={"outcome": outcome}
        )
        from . import cascade

        cascade.stop_cascade(alarm=alarm)
    return alarm


def _open_visit_task(alarm: Alarm, *, user: Any, due: datetime, note: str) -> None:
    """S03: the care app's task queue carries the on-site visit; its id goes on the timeline."""
    from pingantong.care.actions import open_task

    task = open_task(
        kind="emergency_visit",
        client=alarm.client,
        due_at=due,
        reason=note or _("On-site visit for alarm #%(id)s") % {"id": alarm.pk},
        source="alarm",
        source_ref=str(alarm.pk),
        related=[alarm],
        region=alarm.region if alarm.client_id is None else None,
        created_by=user,
        dedupe_key=f"alarm:{alarm.pk}:visit",
    )
    record_step(
        alarm=alarm,
        kind=StepKind.VISIT_TASK_OPENED,
        actor=user,
        note=note,
        data={"task_id": task.pk, "due": due.isoformat()},
    )


def review_alarm(*, alarm_id: int, user: Any, note: str = "") -> Alarm:
    """A supervisor confirms a closed alarm's handling (serious outcomes, quality audit)."""
    now = timezone.now()
    with transaction.atomic():
        alarm = Alarm.objects.select_for_update().get(pk=alarm_id)
        if not user_may(user, "review", alarm):
            raise PermissionDenied(_("Only a supervisor may review alarms."))
        if alarm.status != AlarmStatus.CLOSED:
            raise ValidationError(_("Only a closed alarm can be reviewed."))
        if alarm.reviewed_at is not None:
            raise ValidationError(_("This alarm has already been reviewed."))
        if alarm.closed_by_id == user.pk and not user.is_superuser:
            raise ValidationError(_("Someone other than the closing agent must review."))
        alarm.reviewed_at, alarm.reviewed_by, alarm.review_note = now, user, note.strip()
        alarm.save(update_fields=["reviewed_at", "reviewed_by", "review_note", "updated_at"])
        record_step(alarm=alarm, kind=StepKind.REVIEWED, actor=user, at=now, note=note)
    return alarm


def place_call(*, alarm_id: int, user: Any, number: str, whom: str = "") -> AlarmStep:
    """Click-to-call through the configured switch; the call and its outcome go on the timeline
    (a failure to reach the switch too, so the agent knows to dial by hand)."""
    from .telephony import TelephonyError, get_dialer

    dialer = get_dialer()
    if dialer is None:
        raise ValidationError(_("No telephony switch is configured: dial the number from your phone."))
    alarm = Alarm.objects.get(pk=alarm_id)
    if not user_may(user, "change", alarm):
        raise PermissionDenied
    if not number.strip():
        raise ValidationError({"number": _("No number to call.")})
    extension = getattr(user, "phone", "") or user.get_username()
    record_step(
        alarm=alarm,
        kind=StepKind.CALL_PLACED,
        actor=user,
        note=whom,
        data={"number": number, "via": dialer.name},
    )
    try:
        outcome = dialer.originate(extension=extension, number=number, alarm_id=alarm.pk)
        data = {
            "number": number,
            "result": outcome.result,
            "detail": outcome.detail,
            "call_id": outcome.call_id,
        }
    except TelephonyError as exc:
        data = {"number": number, "result": "failed", "detail": str(exc)}
    return record_step(alarm=alarm, kind=StepKind.CALL_RESULT, actor=user, note=whom, data=data)


def report_device_silent(*, device: Any, silent_since: datetime, now: datetime | None = None) -> Alarm:
    """Hook for the devices app's supervision ("an event not occurring", S06): a device that stayed
    silent past its type's threshold becomes a `device_offline` alarm for its client (or, unbound,
    at the district); repeated reports join the open one."""
    now = now or timezone.now()
    hours = max(0, int((now - silent_since).total_seconds() // 3600))
    alarm, _created = join_or_raise(
        alarm_type=AlarmType.DEVICE_OFFLINE,
        device=device,
        device_ident=getattr(device, "identity", ""),
        client=getattr(device, "client", None),
        region_code=getattr(device, "region_id", None),
        detail=f"silent {hours} h",
        at=now,
        data={"silent_since": silent_since.isoformat()},
    )
    return alarm
