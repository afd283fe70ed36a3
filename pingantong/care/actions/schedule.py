"""The care scheduler (S11, S12, Q2, Q4): opens each client's routine care calls and visits when
they fall due, and moves the ones not yet started when the client's frequency changes.

Intervals: the client's own (`Client.call_interval_days` / `visit_interval_days`, set only from a
client-confirmed frequency request, Q2) or the defaults for the risk tier (config). Calls go into
the client's preferred hours and never into the quiet hours; holidays move or skip as configured.
Idempotent: one task per client, kind and date (dedupe key), and a client with an active task of a
kind gets no second one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from .. import config, scheduling
from ..choices import ACTIVE_STATUSES, CallResult, TaskEventKind, TaskKind, TaskSource, TaskStatus, TaskStep
from ..models import CareCall, Task, TaskEvent, Visit

LOCAL = ZoneInfo("Asia/Shanghai")
_WHAT = {TaskKind.CARE_CALL: "care call", TaskKind.VISIT: "visit"}


@dataclass
class ScheduleResult:
    opened: list[int] = field(default_factory=list)
    moved: list[int] = field(default_factory=list)
    skipped_holiday: int = 0


def _local_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(LOCAL).date()


def _visit_due(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, config.visit_due_time(), tzinfo=LOCAL).astimezone(dt.UTC)


def planned_day(last: dt.datetime | None, interval: int, today: dt.date) -> dt.date:
    """The day the next call or visit is due: `interval` days after the last one; today when there
    never was one (or it is overdue)."""
    if last is None:
        return today
    return max(today, _local_date(last) + dt.timedelta(days=interval))


def schedule_care_work(
    *, now: dt.datetime | None = None, horizon_days: int = 1, client_ids: list[int] | None = None
) -> ScheduleResult:
    """Open the care calls and visits due up to `horizon_days` ahead; re-date unstarted ones
    (for every active client, or only `client_ids`)."""
    from pingantong.clients.models import Client

    now = now or timezone.now()
    today = _local_date(now)
    until = today + dt.timedelta(days=horizon_days)
    is_holiday = scheduling.load_holiday_checker()
    policy = config.holiday_policy()
    default_window = config.default_call_window()
    automated_tiers = config.automated_care_call_tiers()
    last_call = dict(
        CareCall.objects.filter(result=CallResult.ANSWERED)
        .values("client_id")
        .annotate(m=Max("at"))
        .values_list("client_id", "m")
    )
    last_visit = dict(
        Visit.objects.filter(completed_at__isnull=False, verified=True)
        .values("client_id")
        .annotate(m=Max("completed_at"))
        .values_list("client_id", "m")
    )
    active: dict[tuple[int, str], Task] = {
        (t.client_id, t.kind): t
        for t in Task.objects.filter(
            kind__in=(TaskKind.CARE_CALL, TaskKind.VISIT), status__in=ACTIVE_STATUSES, client__isnull=False
        )
    }
    result = ScheduleResult()
    new: list[Task] = []
    clients = Client.objects.filter(status="active")
    if client_ids is not None:
        clients = clients.filter(pk__in=client_ids)
    clients = clients.only(
        "id",
        "region_id",
        "risk_tier",
        "phone",
        "quiet_hours_start",
        "quiet_hours_end",
        "preferred_call_times",
        "call_interval_days",
        "visit_interval_days",
    )
    for client in clients.iterator(chunk_size=2000):
        for kind in (TaskKind.CARE_CALL, TaskKind.VISIT):
            if kind == TaskKind.CARE_CALL:
                interval = client.call_interval_days or config.call_interval_days(client.risk_tier)
                day = planned_day(last_call.get(client.pk), interval, today)
            else:
                interval = client.visit_interval_days or config.visit_interval_days(client.risk_tier)
                day = planned_day(last_visit.get(client.pk), interval, today)
            due = _due(kind, client, day, now, is_holiday, policy, default_window)
            if due is None:
                result.skipped_holiday += 1
                continue
            existing = active.get((client.pk, kind))
            if existing is not None:
                if _movable(existing) and _local_date(existing.due_at) != _local_date(due):
                    _move(existing, due, interval, now)
                    result.moved.append(existing.pk)
                continue
            if _local_date(due) > until:
                continue
            step = ""
            if kind == TaskKind.CARE_CALL:
                step = (
                    TaskStep.AUTOMATED_CALL
                    if client.risk_tier in automated_tiers and client.phone
                    else TaskStep.AGENT_CALL
                )
            new.append(
                Task(
                    kind=kind,
                    client_id=client.pk,
                    region_id=client.region_id,
                    due_at=due,
                    step=step,
                    team="field_worker" if kind == TaskKind.VISIT else "agent",
                    reason=f"Routine {_WHAT[kind]} every {interval} days",
                    source=TaskSource.SCHEDULE,
                    dedupe_key=f"{kind}:{client.pk}:{_local_date(due).isoformat()}",
                    created_at=now,
                    updated_at=now,
                )
            )
    if new:
        taken = set(
            Task.objects.filter(dedupe_key__in=[t.dedupe_key for t in new]).values_list(
                "dedupe_key", flat=True
            )
        )
        new = [t for t in new if t.dedupe_key not in taken]
    with transaction.atomic():
        Task.objects.bulk_create(new, batch_size=2000)
        TaskEvent.objects.bulk_create(
            [
                TaskEvent(task_id=t.pk, kind=TaskEventKind.OPENED, at=now, step=t.step, detail="schedule")
                for t in new
            ],
            batch_size=2000,
        )
    result.opened = [t.pk for t in new]
    calls = [(t.pk, t.due_at) for t in new if t.step == TaskStep.AUTOMATED_CALL]
    if calls:
        transaction.on_commit(lambda: _schedule_calls(calls, now))
    return result


def _due(kind, client, day, now, is_holiday, policy, default_window) -> dt.datetime | None:
    if kind == TaskKind.VISIT:
        moved = scheduling.adjust_for_holidays(day, policy, is_holiday)
        return None if moved is None else _visit_due(moved)
    return scheduling.next_slot(
        day,
        preferred=client.preferred_call_times,
        quiet_start=client.quiet_hours_start,
        quiet_end=client.quiet_hours_end,
        default_window=default_window,
        is_holiday=is_holiday,
        policy=policy,
        not_before=now,
    )


def _movable(task: Task) -> bool:
    """Only a routine task nobody has touched yet follows a new schedule."""
    return (
        task.source == TaskSource.SCHEDULE
        and task.status == TaskStatus.OPEN
        and task.attempts == 0
        and task.escalation_level == 0
        and task.owner_id is None
    )


def _move(task: Task, due: dt.datetime, interval: int, now: dt.datetime) -> None:
    old = task.due_at
    task.due_at = due
    task.dedupe_key = f"{task.kind}:{task.client_id}:{_local_date(due).isoformat()}"
    task.updated_at = now
    with transaction.atomic():
        if Task.objects.filter(dedupe_key=task.dedupe_key).exclude(pk=task.pk).exists():
            task.dedupe_key = None
        task.save(update_fields=["due_at", "dedupe_key", "updated_at"])
        TaskEvent.objects.create(
            task=task,
            kind=TaskEventKind.NOTE,
            at=now,
            step=task.step,
            detail=f"Rescheduled: now every {interval} days",
            data={"from": old.isoformat(), "to": due.isoformat()},
        )


def _schedule_calls(calls: list[tuple[int, dt.datetime]], now: dt.datetime) -> None:
    from .. import voice

    for task_id, due in calls:
        voice.place_confirmation_calls([task_id], eta=None if due <= now else due)
