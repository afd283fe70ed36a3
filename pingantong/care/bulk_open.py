"""Open many tasks at once with the same meaning as `actions.open_task`, in a handful of queries.

`open_task` costs one INSERT for the task, one for its "opened" event and one for its audit entry,
plus a dedupe lookup: ~15–20 ms a task on the project's 2-core machine. A sweep that opens hundreds
or thousands (device supervision after an outage, issue 8) does the same in bulk here:

- the tasks in multi-row INSERTs (their ids come back: PostgreSQL and SQLite ≥ 3.35 return them),
- one `TaskEvent` OPENED per task, with the same detail, actor and data as `open_task` writes,
- one django-auditlog CREATE entry per task with the same changes `open_task`'s save would log
  (the audit context in force, e.g. the actor of a request, is applied as on a save; nothing is
  logged while auditlog is disabled),
- `signals.task_opened` for each task after commit.

Tasks whose `dedupe_key` already exists are not opened again (as with `open_task`). The caller runs
this inside its own transaction and decides what "already open" means (e.g. one active task per
device); this module only writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models.signals import pre_save
from django.utils import timezone

from . import signals
from .actions.tasks import _ref, default_team
from .choices import TaskEventKind, TaskKind, TaskSource, TaskStep
from .models import Task, TaskEvent

BATCH = 1000


@dataclass(frozen=True)
class NewTask:
    """What `open_task` takes, by value (ids, not instances: a sweep has ids)."""

    kind: str
    client_id: int | None
    region_id: str
    due_at: dt.datetime
    reason: str
    source: str = TaskSource.MANUAL
    source_ref: str = ""
    related: Sequence[Any] = field(default_factory=tuple)
    """Model instances or {"model", "pk"} dicts kept as evidence."""
    dedupe_key: str | None = None
    team: str = ""
    step: str = TaskStep.NONE


def _check(spec: NewTask) -> None:
    if spec.kind not in TaskKind.values:
        raise ValidationError({"kind": f"Unknown task kind {spec.kind!r}."})
    if spec.source not in TaskSource.values:
        raise ValidationError({"source": f"Unknown task source {spec.source!r}."})
    if spec.due_at is None or timezone.is_naive(spec.due_at):
        raise ValidationError({"due_at": "The due time must be an aware datetime."})
    if not spec.region_id:
        raise ValidationError({"region": "A task needs a client or a region."})


def open_tasks(specs: Iterable[NewTask], *, now: dt.datetime, created_by: Any = None) -> list[Task]:
    """Open a task for each spec (those whose dedupe key exists are skipped); returns the new tasks
    in the order of `specs`. Runs in one transaction (the caller's, if it has one)."""
    specs = list(specs)
    for spec in specs:
        _check(spec)
    if not specs:
        return []
    with transaction.atomic():
        keys = [s.dedupe_key for s in specs if s.dedupe_key]
        taken: set[str] = set()
        for start in range(0, len(keys), BATCH):
            taken.update(
                Task.objects.filter(dedupe_key__in=keys[start : start + BATCH]).values_list(
                    "dedupe_key", flat=True
                )
            )
        tasks = []
        for spec in specs:
            if spec.dedupe_key and spec.dedupe_key in taken:
                continue
            if spec.dedupe_key:
                taken.add(spec.dedupe_key)  # a key twice in one call opens one task
            tasks.append(
                Task(
                    kind=spec.kind,
                    client_id=spec.client_id,
                    region_id=spec.region_id,
                    due_at=spec.due_at,
                    reason=spec.reason,
                    source=spec.source,
                    source_ref=str(spec.source_ref)[:100],
                    owner=None,
                    team=spec.team or default_team(spec.kind, spec.step),
                    step=spec.step,
                    evidence=[_ref(r) for r in spec.related],
                    created_by=created_by,
                    dedupe_key=spec.dedupe_key,
                    created_at=now,
                    updated_at=now,
                )
            )
        if not tasks:
            return []
        if connection.features.can_return_rows_from_bulk_insert:
            Task.objects.bulk_create(tasks, batch_size=BATCH)
        else:  # pragma: no cover - every supported database returns the ids
            for task in tasks:
                task.save()
        actor_id = getattr(created_by, "pk", None)
        TaskEvent.objects.bulk_create(
            [
                TaskEvent(
                    task=task,
                    kind=TaskEventKind.OPENED,
                    at=now,
                    actor_id=actor_id,
                    step=task.step,
                    level=task.escalation_level,
                    detail=task.reason,
                    data={"source": task.source, "source_ref": task.source_ref},
                )
                for task in tasks
            ],
            batch_size=BATCH,
        )
        audit_created(tasks)
        transaction.on_commit(lambda: _send_opened(tasks))
    return tasks


def _send_opened(tasks: list[Task]) -> None:
    for task in tasks:
        signals.task_opened.send(sender=Task, task=task)


def audit_created(instances: Sequence[Any]) -> None:
    """The CREATE entries django-auditlog writes on each instance's first save, in bulk, for rows
    written with `bulk_create` (instances of one registered model, with their ids)."""
    from auditlog import get_logentry_model
    from auditlog.cid import get_cid
    from auditlog.context import auditlog_disabled
    from auditlog.diff import model_instance_diff
    from auditlog.registry import auditlog
    from django.conf import settings
    from django.contrib.contenttypes.models import ContentType

    if not instances:
        return
    model = type(instances[0])
    if not auditlog.contains(model) or auditlog_disabled.get():
        return
    log_entry = get_logentry_model()
    content_type = ContentType.objects.get_for_model(model)
    as_json = getattr(settings, "AUDITLOG_STORE_JSON_CHANGES", False)
    cid = get_cid()
    entries = []
    for instance in instances:
        changes = model_instance_diff(None, instance, use_json_for_changes=as_json)
        if not changes:  # pragma: no cover - a new row always has changed fields
            continue
        entry = log_entry(
            content_type=content_type,
            object_pk=str(instance.pk),
            object_id=instance.pk,
            object_repr=str(instance),
            serialized_data=log_entry.objects._get_serialized_data_or_none(instance),
            action=log_entry.Action.CREATE,
            changes=changes,
            cid=cid,
        )
        # As auditlog's log_create: the model's own extra data (e.g. the subject's region, 0081).
        get_additional_data = getattr(instance, "get_additional_data", None)
        if callable(get_additional_data):
            entry.additional_data = get_additional_data()
        # The audit context (actor, address of a request) is applied by pre_save receivers.
        pre_save.send(sender=log_entry, instance=entry, raw=False, using="default", update_fields=None)
        entries.append(entry)
    log_entry.objects.bulk_create(entries, batch_size=BATCH)
