"""Task actions: open, assign, start, record an attempt, escalate, complete, cancel.

Every action is keyword-only, runs in one transaction, appends a TaskEvent (the task's history is
the evidence of what was done and when) and sends its signal after commit. Callers pass `now`
when they have a clock of their own (sweeps, tests); otherwise it is `timezone.now()`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import signals
from ..choices import TaskEventKind, TaskKind, TaskOutcome, TaskSource, TaskStatus, TaskStep
from ..models import Task, TaskEvent

ESCALATION_TEAMS = {1: "supervisor", 2: "agency_admin"}


def _ref(obj: Any) -> dict:
    """A JSON reference to a related object: {"model": "app.model", "pk": "…"} (or a dict as given)."""
    if isinstance(obj, dict):
        return obj
    meta = obj._meta
    return {"model": f"{meta.app_label}.{meta.model_name}", "pk": str(obj.pk)}


def _event(task: Task, *, kind: str, at: dt.datetime, actor=None, detail: str = "", data: dict | None = None):
    return TaskEvent.objects.create(
        task=task,
        kind=kind,
        at=at,
        actor=actor,
        step=task.step,
        level=task.escalation_level,
        detail=detail,
        data=data or {},
    )


def open_task(
    *,
    kind: str,
    client: Any | None,
    due_at: dt.datetime,
    reason: str,
    source: str = TaskSource.MANUAL,
    source_ref: str = "",
    owner: Any | None = None,
    team: str = "",
    related: Iterable[Any] | None = None,
    step: str = TaskStep.NONE,
    region: Any | None = None,
    created_by: Any | None = None,
    dedupe_key: str | None = None,
    now: dt.datetime | None = None,
) -> Task:
    """Open a task for `client` due at `due_at`.

    `region` defaults to the client's region (a task without a client, e.g. for an unbound device's
    alarm, must name one). `related` are model instances or {"model", "pk"} dicts kept as evidence
    (the alarm, the device event …). With `dedupe_key`, opening is idempotent: a second call with
    the same key returns the task the first one opened.
    """
    if kind not in TaskKind.values:
        raise ValidationError({"kind": f"Unknown task kind {kind!r}."})
    if source not in TaskSource.values:
        raise ValidationError({"source": f"Unknown task source {source!r}."})
    if due_at is None or timezone.is_naive(due_at):
        raise ValidationError({"due_at": "The due time must be an aware datetime."})
    region_id = getattr(region, "pk", region) or getattr(client, "region_id", None)
    if not region_id:
        raise ValidationError({"region": "A task needs a client or a region."})
    now = now or timezone.now()
    if dedupe_key and (existing := Task.objects.filter(dedupe_key=dedupe_key).first()):
        return existing
    if not team and owner is None:
        team = default_team(kind, step)
    task = Task(
        kind=kind,
        client=client,
        region_id=region_id,
        due_at=due_at,
        reason=reason,
        source=source,
        source_ref=str(source_ref)[:100],
        owner=owner,
        team=team,
        step=step,
        evidence=[_ref(r) for r in related or ()],
        created_by=created_by,
        dedupe_key=dedupe_key,
        created_at=now,
        updated_at=now,
    )
    try:
        with transaction.atomic():
            task.save()
            _event(
                task,
                kind=TaskEventKind.OPENED,
                at=now,
                actor=created_by,
                detail=reason,
                data={"source": source, "source_ref": task.source_ref},
            )
    except IntegrityError:
        if dedupe_key:  # a concurrent sweep opened it first
            return Task.objects.get(dedupe_key=dedupe_key)
        raise
    transaction.on_commit(lambda: signals.task_opened.send(sender=Task, task=task))
    return task


def default_team(kind: str, step: str = "") -> str:
    """Who picks up a task nobody owns: visits go to field workers, calls and the rest to agents."""
    if kind in (TaskKind.VISIT, TaskKind.EMERGENCY_VISIT, TaskKind.MAINTENANCE) or step == TaskStep.VISIT:
        return "field_worker"
    if step == TaskStep.SUPERVISOR:
        return "supervisor"
    return "agent"


def _require_active(task: Task) -> None:
    if not task.is_active:
        raise ValidationError({"status": f"Task #{task.pk} is already {task.status}."})


@transaction.atomic
def assign_task(
    *, task: Task, owner: Any | None, by: Any | None = None, now: dt.datetime | None = None
) -> Task:
    """Give a task to one person (or back to its team with owner=None)."""
    _require_active(task)
    now = now or timezone.now()
    task.owner = owner
    task.updated_at = now
    task.save(update_fields=["owner", "updated_at"])
    _event(task, kind=TaskEventKind.ASSIGNED, at=now, actor=by, data={"owner": getattr(owner, "pk", None)})
    return task


@transaction.atomic
def start_task(*, task: Task, by: Any | None = None, now: dt.datetime | None = None) -> Task:
    """Someone is working on it now; an unowned task becomes theirs."""
    _require_active(task)
    now = now or timezone.now()
    task.status = TaskStatus.IN_PROGRESS
    if task.owner_id is None and by is not None:
        task.owner = by
    task.updated_at = now
    task.save(update_fields=["status", "owner", "updated_at"])
    _event(task, kind=TaskEventKind.STARTED, at=now, actor=by)
    return task


@transaction.atomic
def record_attempt(
    *,
    task: Task,
    result: str,
    by: Any | None = None,
    detail: str = "",
    data: dict | None = None,
    retry_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Task:
    """An attempt at the current step that did not close the task (no answer, busy …); with
    `retry_at` the task is due again then."""
    _require_active(task)
    now = now or timezone.now()
    task.attempts += 1
    fields = ["attempts", "updated_at"]
    if retry_at is not None:
        task.due_at = retry_at
        fields.append("due_at")
    task.updated_at = now
    task.save(update_fields=fields)
    _event(
        task,
        kind=TaskEventKind.ATTEMPT,
        at=now,
        actor=by,
        detail=detail,
        data={"result": result, **(data or {})},
    )
    return task


@transaction.atomic
def escalate_task(
    *,
    task: Task,
    reason: str,
    by: Any | None = None,
    to_step: str | None = None,
    owner: Any | None = None,
    team: str | None = None,
    due_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Task:
    """Move a task up: to the next step of its chain (`to_step`) or to the next level of people
    (supervisor, then agency administrator). The level rises by one and the history records why."""
    _require_active(task)
    now = now or timezone.now()
    task.escalation_level += 1
    task.status = TaskStatus.ESCALATED
    task.attempts = 0
    if to_step is not None:
        task.step = to_step
    task.owner = owner
    task.team = team or (
        default_team(task.kind, task.step)
        if to_step
        else ESCALATION_TEAMS.get(task.escalation_level, "agency_admin")
    )
    if due_at is not None:
        task.due_at = due_at
    task.updated_at = now
    task.save(
        update_fields=[
            "escalation_level",
            "status",
            "attempts",
            "step",
            "owner",
            "team",
            "due_at",
            "updated_at",
        ]
    )
    _event(
        task,
        kind=TaskEventKind.ESCALATED,
        at=now,
        actor=by,
        detail=reason,
        data={"team": task.team, "owner": getattr(owner, "pk", None)},
    )
    transaction.on_commit(lambda: signals.task_escalated.send(sender=Task, task=task))
    return task


@transaction.atomic
def complete_task(
    *,
    task: Task,
    outcome: str,
    notes: dict | None = None,
    by: Any | None = None,
    evidence: Iterable[Any] | None = None,
    now: dt.datetime | None = None,
) -> Task:
    """Close a task with its outcome and structured notes; `evidence` adds related records (the call,
    the visit …). A completed confirmation or call with a confirming outcome is a life sign."""
    _require_active(task)
    if outcome not in TaskOutcome.values:
        raise ValidationError({"outcome": f"Unknown outcome {outcome!r}."})
    now = now or timezone.now()
    task.status = TaskStatus.DONE
    task.outcome = outcome
    task.notes = {**(task.notes or {}), **(notes or {})}
    task.evidence = [*(task.evidence or []), *(_ref(e) for e in evidence or ())]
    task.completed_at = now
    task.completed_by = by
    task.updated_at = now
    task.save(
        update_fields=["status", "outcome", "notes", "evidence", "completed_at", "completed_by", "updated_at"]
    )
    _event(task, kind=TaskEventKind.DONE, at=now, actor=by, detail=str(outcome), data={"notes": notes or {}})
    transaction.on_commit(lambda: signals.task_completed.send(sender=Task, task=task))
    return task


@transaction.atomic
def cancel_task(*, task: Task, reason: str, by: Any | None = None, now: dt.datetime | None = None) -> Task:
    """Withdraw a task that is no longer needed (the client was reached another way, terminated …)."""
    _require_active(task)
    now = now or timezone.now()
    task.status = TaskStatus.CANCELLED
    task.outcome = TaskOutcome.CANCELLED
    task.completed_at = now
    task.completed_by = by
    task.updated_at = now
    task.save(update_fields=["status", "outcome", "completed_at", "completed_by", "updated_at"])
    _event(task, kind=TaskEventKind.CANCELLED, at=now, actor=by, detail=reason)
    return task


@transaction.atomic
def add_task_note(
    *, task: Task, text: str, by: Any | None = None, now: dt.datetime | None = None
) -> TaskEvent:
    """A free note in the task's history."""
    if not text.strip():
        raise ValidationError({"text": "A note cannot be empty."})
    return _event(task, kind=TaskEventKind.NOTE, at=now or timezone.now(), actor=by, detail=text.strip())
