"""Home visits (S12, Q2): check-in with location, checklist, notes, photos, the client's
confirmation. A visit counts only within the set distance of the home or with a recorded reason."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .. import config
from ..choices import LifeSignSource, Need, TaskKind, TaskOutcome, TaskSource, TaskStep, VisitStatus
from ..geo import haversine_m
from ..models import DEFAULT_CHECKLIST, Task, Visit, VisitPhoto
from .confirmation import advance_confirmation
from .lifesigns import record_life_sign
from .tasks import complete_task, escalate_task, open_task, record_attempt, start_task

MAX_PHOTO_BYTES = 8 * 1024 * 1024
PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp", "image/heic"}


@transaction.atomic
def check_in_visit(
    *,
    client: Any,
    by: Any,
    latitude: float | None,
    longitude: float | None,
    accuracy_m: float | None = None,
    reason: str = "",
    task: Task | None = None,
    now: dt.datetime | None = None,
) -> Visit:
    """The field worker arrives. Within `PINGANTONG_CARE_VISIT_CHECKIN_RADIUS_M` (200 m) of the home
    the visit counts; further away, or without a location fix, only with a reason (client met at the
    clinic, GPS unavailable), which is recorded. Refused otherwise, and nothing is stored."""
    now = now or timezone.now()
    reason = reason.strip()
    if task is not None and task.client_id != client.pk:
        raise ValidationError({"task": "The task belongs to another client."})
    distance = None
    if latitude is not None and longitude is not None:
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise ValidationError({"latitude": "The location is not a valid WGS-84 coordinate."})
        if client.home_lat is not None and client.home_lon is not None:
            distance = haversine_m(latitude, longitude, client.home_lat, client.home_lon)
    radius = config.visit_checkin_radius_m()
    near = distance is not None and distance <= radius
    if not near and not reason:
        if distance is None:
            raise ValidationError(
                {"reason": "No location to compare with the home: record a reason to check in."}
            )
        raise ValidationError(
            {
                "reason": f"You are {distance:.0f} m from the client's home (limit {radius:.0f} m): "
                "record a reason."
            }
        )
    visit = Visit.objects.create(
        client=client,
        region_id=client.region_id,
        task=task,
        worker=by,
        status=VisitStatus.CHECKED_IN,
        checked_in_at=now,
        checkin_lat=latitude,
        checkin_lon=longitude,
        checkin_accuracy_m=accuracy_m,
        distance_m=distance,
        off_site_reason="" if near else reason,
        verified=True,
    )
    if task is not None and task.is_active:
        start_task(task=task, by=by, now=now)
    return visit


@transaction.atomic
def complete_visit(
    *,
    visit: Visit,
    by: Any,
    checklist: dict[str, bool],
    notes: str = "",
    client_confirmed: bool = False,
    client_confirmation: str = "",
    needs: list[str] | None = None,
    now: dt.datetime | None = None,
) -> Visit:
    """Close a checked-in visit. The client seen is a life sign; noted needs become follow-ups and the
    visit's task closes with the checklist and notes."""
    if visit.status != VisitStatus.CHECKED_IN:
        raise ValidationError({"status": "Check in before completing the visit."})
    known = {key for key, _label in DEFAULT_CHECKLIST}
    unknown = sorted(set(checklist) - known)
    if unknown:
        raise ValidationError({"checklist": f"Unknown checklist items: {', '.join(unknown)}."})
    needs = list(dict.fromkeys(needs or []))
    if bad := [n for n in needs if n not in Need.values]:
        raise ValidationError({"needs": f"Unknown needs: {', '.join(bad)}."})
    now = now or timezone.now()
    visit.checklist = {key: bool(checklist.get(key, False)) for key, _label in DEFAULT_CHECKLIST}
    visit.notes = notes.strip()
    visit.client_confirmed = client_confirmed
    visit.client_confirmation = client_confirmation.strip()[:100]
    visit.status = VisitStatus.COMPLETED
    visit.completed_at = now
    visit.save(
        update_fields=[
            "checklist",
            "notes",
            "client_confirmed",
            "client_confirmation",
            "status",
            "completed_at",
        ]
    )
    client = visit.client
    seen = visit.checklist.get("well") or client_confirmed
    if seen:
        record_life_sign(
            client=client,
            at=visit.checked_in_at or now,
            source=LifeSignSource.VISIT,
            by=by,
            evidence={"model": "care.visit", "pk": str(visit.pk)},
        )
    follow_ups = []
    if needs:
        follow_ups.append(
            open_task(
                kind=TaskKind.FOLLOW_UP,
                client=client,
                due_at=now + dt.timedelta(days=1),
                reason="; ".join(str(Need(n).label) for n in needs),
                source=TaskSource.VISIT,
                source_ref=str(visit.pk),
                related=[visit],
                created_by=by,
                now=now,
            )
        )
    task = visit.task
    if task is not None and task.is_active:
        outcome = (
            TaskOutcome.CONFIRMED_NEEDS_HELP
            if needs
            else (TaskOutcome.CONFIRMED_WELL if seen else TaskOutcome.COMPLETED)
        )
        complete_task(
            task=task,
            outcome=outcome,
            by=by,
            evidence=[visit],
            now=now,
            notes={
                "checklist": visit.checklist,
                "notes": visit.notes,
                "needs": needs,
                "client_confirmed": client_confirmed,
                "follow_ups": [t.pk for t in follow_ups],
            },
        )
    return visit


@transaction.atomic
def record_visit_not_found(*, task: Task, by: Any, reason: str, now: dt.datetime | None = None) -> Task:
    """The visitor could not find the client: a confirmation goes to the supervisor at once; a
    scheduled visit records the attempt and escalates (S12: missed visits escalate)."""
    now = now or timezone.now()
    if not reason.strip():
        raise ValidationError({"reason": "Say what happened (nobody home, moved, in hospital …)."})
    if task.kind == TaskKind.CONFIRMATION and task.step == TaskStep.VISIT:
        return advance_confirmation(task=task, reason=f"Not found on visit: {reason}", by=by, now=now)
    record_attempt(task=task, result="not_found", by=by, detail=reason, now=now)
    return escalate_task(
        task=task, reason=f"Visit missed: {reason}", by=by, due_at=now + config.escalation_grace(), now=now
    )


def add_visit_photo(*, visit: Visit, upload: Any, now: dt.datetime | None = None) -> VisitPhoto:
    """Attach a photo (JPEG/PNG/WebP/HEIC, at most 8 MB) to a visit."""
    content_type = getattr(upload, "content_type", "") or ""
    if content_type not in PHOTO_TYPES:
        raise ValidationError({"photo": f"Not a photo ({content_type or 'unknown type'})."})
    if upload.size > MAX_PHOTO_BYTES:
        raise ValidationError({"photo": "The photo is larger than 8 MB."})
    return VisitPhoto.objects.create(visit=visit, image=upload, uploaded_at=now or timezone.now())
