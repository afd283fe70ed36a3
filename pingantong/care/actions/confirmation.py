"""Daily life-status confirmation (Q1, S04–S06).

The daily sweep finds every active client whose category requires daily confirmation and who has
shown no life sign for a day (a heartbeat does not count), and opens one confirmation task due
within 24 hours. The task then walks a chain: an automated voice call (keypress 1 = all well,
2 = please call me; retried once after ~10 minutes), then an agent's call, then a visit; an
unanswered step escalates to the next, a missed visit to the supervisor. Every attempt and outcome
is in the task's history.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from .. import config
from ..choices import ACTIVE_STATUSES, TaskEventKind, TaskKind, TaskSource, TaskStep
from ..models import DailyCoverage, Task, TaskEvent
from ..selectors.lifesigns import clients_with_life_sign_since
from .tasks import escalate_task

CHAINS = {
    TaskKind.CONFIRMATION: (
        TaskStep.AUTOMATED_CALL,
        TaskStep.AGENT_CALL,
        TaskStep.VISIT,
        TaskStep.SUPERVISOR,
    ),
    TaskKind.CARE_CALL: (TaskStep.AUTOMATED_CALL, TaskStep.AGENT_CALL, TaskStep.SUPERVISOR),
}


@dataclass
class SweepResult:
    day: dt.date
    due: int = 0
    confirmed_by_life_sign: int = 0
    already_open: int = 0
    opened: list[int] = field(default_factory=list)


def local_day(now: dt.datetime) -> dt.date:
    return timezone.localtime(now).date()


def confirmation_key(client_id: int, day: dt.date) -> str:
    return f"confirmation:{client_id}:{day.isoformat()}"


def clients_requiring_confirmation() -> list[tuple[int, str, bool]]:
    """(client id, region code, has a phone) of every active client whose category needs daily
    confirmation. Categories are a JSON list: filtered here, one pass, no per-row query."""
    from pingantong.clients.models import Client

    wanted = config.confirmation_categories()
    rows = Client.objects.filter(status="active").values_list("id", "region_id", "categories", "phone")
    return [
        (cid, region, bool(phone))
        for cid, region, cats, phone in rows.iterator(chunk_size=5000)
        if wanted.intersection(cats or ())
    ]


def run_daily_confirmation(*, now: dt.datetime | None = None) -> SweepResult:
    """Open the confirmation tasks due today; idempotent (a re-run opens nothing new)."""
    now = now or timezone.now()
    day = local_day(now)
    result = SweepResult(day=day)
    candidates = clients_requiring_confirmation()
    alive = clients_with_life_sign_since(now - config.life_sign_window())
    open_for = set(
        Task.objects.filter(
            kind=TaskKind.CONFIRMATION, status__in=ACTIVE_STATUSES, client__isnull=False
        ).values_list("client_id", flat=True)
    )
    keys_today = set(
        Task.objects.filter(
            kind=TaskKind.CONFIRMATION,
            dedupe_key__startswith="confirmation:",
            dedupe_key__endswith=f":{day.isoformat()}",
        ).values_list("dedupe_key", flat=True)
    )
    automated = config.automated_confirmation_calls()
    due_at = now + config.confirmation_deadline()
    per_region: dict[str, Counter] = {}
    new_tasks: list[Task] = []
    for cid, region, has_phone in candidates:
        counts = per_region.setdefault(region, Counter())
        counts["due"] += 1
        result.due += 1
        if cid in alive:
            counts["confirmed"] += 1
            result.confirmed_by_life_sign += 1
            continue
        key = confirmation_key(cid, day)
        if cid in open_for or key in keys_today:
            result.already_open += 1
            continue
        step = TaskStep.AUTOMATED_CALL if automated and has_phone else TaskStep.AGENT_CALL
        counts["opened"] += 1
        new_tasks.append(
            Task(
                kind=TaskKind.CONFIRMATION,
                client_id=cid,
                region_id=region,
                due_at=due_at,
                step=step,
                team="agent",
                reason="No life sign for 24 hours (Q1, S06)",
                source=TaskSource.SCHEDULE,
                dedupe_key=key,
                created_at=now,
                updated_at=now,
            )
        )
    with transaction.atomic():
        Task.objects.bulk_create(new_tasks, batch_size=2000)
        created = (
            Task.objects.filter(dedupe_key__in=[t.dedupe_key for t in new_tasks]).values_list("id", "step")
            if new_tasks and new_tasks[0].pk is None
            else [(t.pk, t.step) for t in new_tasks]
        )
        created = list(created)
        TaskEvent.objects.bulk_create(
            [
                TaskEvent(task_id=pk, kind=TaskEventKind.OPENED, at=now, step=step, detail="daily sweep")
                for pk, step in created
            ],
            batch_size=2000,
        )
        _record_coverage(day, per_region, now)
    result.opened = [pk for pk, _ in created]
    calls = [pk for pk, step in created if step == TaskStep.AUTOMATED_CALL]
    if calls:
        transaction.on_commit(lambda: _place_calls(calls))
    return result


def _record_coverage(day: dt.date, per_region: dict[str, Counter], now: dt.datetime) -> None:
    existing = {c.region_id: c for c in DailyCoverage.objects.filter(day=day)}
    new, changed = [], []
    for region, counts in per_region.items():
        row = existing.get(region)
        if row is None:
            new.append(
                DailyCoverage(
                    region_id=region,
                    day=day,
                    due=counts["due"],
                    confirmed_by_life_sign=counts["confirmed"],
                    tasks_opened=counts["opened"],
                    swept_at=now,
                )
            )
        else:
            row.due = counts["due"]
            row.confirmed_by_life_sign = max(row.confirmed_by_life_sign, counts["confirmed"])
            row.tasks_opened += counts["opened"]
            row.swept_at = now
            changed.append(row)
    DailyCoverage.objects.bulk_create(new, batch_size=2000)
    DailyCoverage.objects.bulk_update(changed, ["due", "confirmed_by_life_sign", "tasks_opened", "swept_at"])


def _place_calls(task_ids: list[int]) -> None:
    from .. import voice

    voice.place_confirmation_calls(task_ids)


# --- the chain -------------------------------------------------------------------------------


def next_step(kind: str, step: str) -> str:
    """The step after `step` in the chain of a task of `kind` (the supervisor at the end)."""
    chain = CHAINS.get(TaskKind(kind), (TaskStep.SUPERVISOR,))
    try:
        return chain[chain.index(TaskStep(step)) + 1]
    except (ValueError, IndexError):
        return TaskStep.SUPERVISOR


def _step_due(step: str, task: Task, now: dt.datetime) -> dt.datetime:
    if step == TaskStep.AGENT_CALL:
        return now + config.agent_step_time()
    if step == TaskStep.VISIT:
        # The visit must still happen inside the original 24 h where there is time for it.
        return max(task.due_at, now + config.escalation_grace())
    return now + config.escalation_grace()


def advance_confirmation(
    *, task: Task, reason: str, by: Any | None = None, now: dt.datetime | None = None
) -> Task:
    """The current step failed (no answer, not found): move the task to the next step."""
    now = now or timezone.now()
    step = next_step(task.kind, task.step)
    return escalate_task(
        task=task, reason=reason, by=by, to_step=step, due_at=_step_due(step, task, now), now=now
    )


def escalate_overdue_tasks(*, now: dt.datetime | None = None) -> list[int]:
    """Every active task past its due time moves on: confirmations to their next step, other tasks
    to the next level of people. Each escalation sets a new due time, so a re-run does nothing."""
    now = now or timezone.now()
    moved = []
    overdue = Task.objects.filter(status__in=ACTIVE_STATUSES, due_at__lt=now).select_related("client")
    for task in overdue.iterator(chunk_size=500):
        if task.kind in CHAINS and task.step:
            advance_confirmation(task=task, reason=f"Step {task.step} overdue", now=now)
        else:
            escalate_task(task=task, reason="Overdue", due_at=now + config.escalation_grace(), now=now)
        moved.append(task.pk)
    return moved
