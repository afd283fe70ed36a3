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
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from .. import config
from ..bulk import bulk_insert
from ..choices import ACTIVE_STATUSES, TaskEventKind, TaskKind, TaskOutcome, TaskSource, TaskStep
from ..models import DailyCoverage, Task, TaskEvent
from ..selectors.lifesigns import clients_with_life_sign_since
from .tasks import complete_task, escalate_task

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
    """Date first: a day's keys are neighbours in the unique index, so the sweep's inserts stay on a
    few hundred index pages however many days of tasks precede them (decision 0086)."""
    return f"confirmation:{day.isoformat()}:{client_id}"


def clients_requiring_confirmation() -> list[tuple[int, str, bool, dt.time | None, dt.time | None]]:
    """(client id, region code, has a phone, quiet hours from, until) of every active client whose
    category needs daily confirmation; the category test runs in the database (`filter_category`)."""
    from pingantong.clients.models import Client
    from pingantong.clients.selectors import filter_category

    wanted = config.confirmation_categories()
    if not wanted:
        return []
    rows = filter_category(Client.objects.filter(status="active"), sorted(wanted))
    return [
        (cid, region, bool(phone), quiet_from, quiet_until)
        for cid, region, phone, quiet_from, quiet_until in rows.values_list(
            "id", "region_id", "phone", "quiet_hours_start", "quiet_hours_end"
        )
    ]


def run_daily_confirmation(*, now: dt.datetime | None = None) -> SweepResult:
    """Open the confirmation tasks due today; idempotent (a re-run opens nothing new).

    Built for 100,000 clients in seconds: two reads of all candidates and their life signs, then,
    for the silent ones only, index probes for an active task or today's key (so the cost follows
    the clients, not the years of task history), and the new tasks and their history rows in
    batched multi-row inserts."""
    now = now or timezone.now()
    day = local_day(now)
    result = SweepResult(day=day)
    candidates = clients_requiring_confirmation()
    alive = clients_with_life_sign_since(now - config.life_sign_window())
    silent = [row[0] for row in candidates if row[0] not in alive]
    open_for = _with_active_confirmation(silent)
    keys_today = _existing_keys([confirmation_key(cid, day) for cid in silent])
    automated = config.automated_confirmation_calls()
    per_region: dict[str, Counter] = {}
    rows: list[tuple[int, str, str, str]] = []  # client, region, step, dedupe key
    quiet: dict[int, tuple[dt.time, dt.time]] = {}
    for cid, region, has_phone, quiet_from, quiet_until in candidates:
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
        counts["opened"] += 1
        if quiet_from is not None and quiet_until is not None:
            quiet[cid] = (quiet_from, quiet_until)
        rows.append(
            (cid, region, TaskStep.AUTOMATED_CALL if automated and has_phone else TaskStep.AGENT_CALL, key)
        )
    with transaction.atomic():
        created = _insert_tasks(rows, now=now, due_at=now + config.confirmation_deadline())
        _record_coverage(day, per_region, now)
    result.opened = [pk for pk, _ in created]
    # Automated calls ring now, except for clients in their quiet hours: those ring when they end.
    by_eta: dict[dt.datetime | None, list[int]] = {}
    for (pk, step), (cid, *_rest) in zip(created, rows, strict=True):
        if step == TaskStep.AUTOMATED_CALL:
            by_eta.setdefault(quiet_end_after(now, *quiet[cid]) if cid in quiet else None, []).append(pk)
    for eta, ids in by_eta.items():
        transaction.on_commit(partial(_place_calls, ids, eta))
    return result


def _chunks(values: list, size: int | None = None):
    """Slices of `values` small enough for one IN (...) on every backend (SQLite: 999 parameters)."""
    from django.db import connection

    size = size or min(2000, (connection.features.max_query_params or 2000) - 20)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _with_active_confirmation(client_ids: list[int]) -> set[int]:
    """The clients among `client_ids` with an active confirmation task: probes of the
    (client, kind, status) index, never a scan of all tasks ever opened."""
    from django.db import connection

    if connection.vendor == "postgresql":  # one array parameter instead of thousands
        return {
            cid
            for (cid,) in _any(
                "client_id",
                client_ids,
                extra=("kind = %s AND status = ANY(%s)", [TaskKind.CONFIRMATION, list(ACTIVE_STATUSES)]),
            )
        }
    found: set[int] = set()
    for chunk in _chunks(client_ids):
        found.update(
            Task.objects.filter(client_id__in=chunk, kind=TaskKind.CONFIRMATION, status__in=ACTIVE_STATUSES)
            .order_by()
            .values_list("client_id", flat=True)
        )
    return found


def _existing_keys(keys: list[str]) -> dict[str, int]:
    """{dedupe key: task id} of the tasks holding any of `keys` (the unique index, probe by probe)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return dict(_any("dedupe_key", keys, select=("dedupe_key", "id")))
    found: dict[str, int] = {}
    for chunk in _chunks(keys):
        found.update(Task.objects.filter(dedupe_key__in=chunk).order_by().values_list("dedupe_key", "id"))
    return found


def _any(column: str, values: list, *, select: tuple[str, ...] = ("client_id",), extra=("TRUE", [])):
    """PostgreSQL: `SELECT select FROM care_task WHERE column = ANY(%s) AND extra`. Django's `__in`
    binds one parameter per value, which psycopg then renders into the SQL text client-side: 27,000
    keys cost 1.5 s that way, 0.16 s as one array. Names come from the model's metadata."""
    from django.db import connection

    if not values:
        return []
    qn = connection.ops.quote_name
    names = {f.attname: f.column for f in Task._meta.concrete_fields}
    columns = ", ".join(qn(names[name]) for name in select)
    condition, params = extra
    sql = (
        f"SELECT {columns} FROM {qn(Task._meta.db_table)} "  # noqa: S608 - names from _meta, values bound
        f"WHERE {qn(names[column])} = ANY(%s) AND {condition}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(values), *params])
        return cursor.fetchall()


def quiet_end_after(now: dt.datetime, quiet_from: dt.time, quiet_until: dt.time) -> dt.datetime | None:
    """When the client's quiet hours end, if `now` is inside them (None otherwise)."""
    from ..scheduling import LOCAL, in_quiet_hours

    local = now.astimezone(LOCAL)
    if not in_quiet_hours(local.time().replace(tzinfo=None), quiet_from, quiet_until):
        return None
    end = dt.datetime.combine(local.date(), quiet_until, tzinfo=LOCAL)
    if end <= local:
        end += dt.timedelta(days=1)
    return end.astimezone(dt.UTC)


def _insert_tasks(rows: list[tuple[int, str, str, str]], *, now: dt.datetime, due_at: dt.datetime):
    """Multi-row INSERTs of the new tasks and their "opened" events; returns [(id, step)].

    Every column but client, region, step and key is the same for the whole batch, so values are
    prepared once through the model fields (the ORM's per-row preparation would dominate the sweep)."""
    if not rows:
        return []
    template = Task(
        kind=TaskKind.CONFIRMATION,
        region_id="0",
        due_at=due_at,
        team="agent",
        reason="No life sign for 24 hours (Q1, S06)",
        source=TaskSource.SCHEDULE,
        created_at=now,
        updated_at=now,
    )
    varying = ["client_id", "region_id", "step", "dedupe_key"]
    created = bulk_insert(Task, template, varying, [list(r) for r in rows], copy=True)
    ids = _existing_keys([r[3] for r in rows])
    if created != len(rows) or any(r[3] not in ids for r in rows):  # pragma: no cover - defensive
        raise RuntimeError("confirmation tasks were not all stored")
    pairs = [(ids[key], step) for _cid, _region, step, key in rows]
    event = TaskEvent(task_id=0, kind=TaskEventKind.OPENED, at=now, detail="daily sweep")
    bulk_insert(TaskEvent, event, ["task_id", "step"], [[pk, step] for pk, step in pairs], copy=True)
    return pairs


def _record_coverage(day: dt.date, per_region: dict[str, Counter], now: dt.datetime) -> None:
    """Replace the day's rows (a re-run keeps the tasks already counted as opened)."""
    existing = dict(DailyCoverage.objects.filter(day=day).values_list("region_id", "tasks_opened"))
    DailyCoverage.objects.filter(day=day).delete()
    DailyCoverage.objects.bulk_create(
        [
            DailyCoverage(
                region_id=region,
                day=day,
                due=counts["due"],
                confirmed_by_life_sign=counts["confirmed"],
                tasks_opened=existing.get(region, 0) + counts["opened"],
                swept_at=now,
            )
            for region, counts in per_region.items()
        ],
        batch_size=2000,
    )


def _place_calls(task_ids: list[int], eta: dt.datetime | None = None) -> None:
    from .. import voice

    voice.place_confirmation_calls(task_ids, eta=eta)


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


def escalate_overdue_tasks(*, now: dt.datetime | None = None, limit: int = 2000) -> list[int]:
    """Every active task past its due time moves on: confirmations to their next step, other tasks
    to the next level of people. Each escalation sets a new due time, so a re-run does nothing.
    At most `limit` per run, longest overdue first: the next run (5 minutes later) takes the rest."""
    now = now or timezone.now()
    moved = []
    overdue = (
        Task.objects.filter(status__in=ACTIVE_STATUSES, due_at__lt=now)
        .select_related("client")
        .order_by("due_at", "id")[:limit]
    )
    for task in overdue.iterator(chunk_size=500):
        if task.kind in CHAINS and task.step:
            advance_confirmation(task=task, reason=f"Step {task.step} overdue", now=now)
        else:
            escalate_task(task=task, reason="Overdue", due_at=now + config.escalation_grace(), now=now)
        moved.append(task.pk)
    return moved


def close_confirmed_tasks(*, now: dt.datetime | None = None) -> list[int]:
    """Close the active confirmation tasks whose client has shown a life sign since the task opened
    (steps today, a button press, a care call answered elsewhere): nobody needs to call them now.
    The task records which sign confirmed it. Run before escalating, so they are not escalated."""
    from ..selectors.lifesigns import life_statuses

    now = now or timezone.now()
    tasks = list(
        Task.objects.filter(
            kind=TaskKind.CONFIRMATION, status__in=ACTIVE_STATUSES, client__isnull=False
        ).only("id", "client_id", "created_at", "status", "notes", "evidence")
    )
    closed = []
    for start in range(0, len(tasks), 5000):
        chunk = tasks[start : start + 5000]
        statuses = life_statuses({t.client_id for t in chunk if t.client_id is not None})
        for task in chunk:
            life = statuses.get(task.client_id) if task.client_id is not None else None
            if life is None or life.last_life_sign_at is None or life.last_life_sign_at <= task.created_at:
                continue
            if (task.notes or {}).get("callback_requested"):
                continue  # the client pressed 2: a person calls back whatever the sensors say
            complete_task(
                task=task,
                outcome=TaskOutcome.CONFIRMED_WELL,
                now=now,
                notes={
                    "life_sign": {
                        "at": life.last_life_sign_at.isoformat(),
                        "source": life.source,
                        "origin": life.origin,
                    }
                },
                evidence=[{"model": "life_sign", "pk": f"{life.origin}:{life.source}", **life.evidence}],
            )
            closed.append(task.pk)
    return closed
