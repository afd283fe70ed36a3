"""The task model's actions: what the alarm centre and the care sweeps rely on."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from pingantong.care import actions, signals
from pingantong.care.choices import TaskEventKind, TaskKind, TaskOutcome, TaskSource, TaskStatus
from pingantong.care.models import Task

pytestmark = pytest.mark.django_db


def test_open_task_copies_the_client_region_and_defaults_the_team(client_factory, now):
    client = client_factory()
    task = actions.open_task(
        kind=TaskKind.EMERGENCY_VISIT,
        client=client,
        due_at=now + dt.timedelta(minutes=15),
        reason="SOS not resolved by phone",
        source=TaskSource.ALARM,
        source_ref="42",
        related=[{"model": "alarms.alarm", "pk": "42"}],
        now=now,
    )
    assert task.region_id == client.region_id
    assert task.team == "field_worker"
    assert task.status == TaskStatus.OPEN
    assert task.evidence == [{"model": "alarms.alarm", "pk": "42"}]
    assert [e.kind for e in task.events.all()] == [TaskEventKind.OPENED]


def test_open_task_with_the_same_dedupe_key_returns_the_first_task(client_factory, now):
    client = client_factory()
    first = actions.open_task(
        kind=TaskKind.CARE_CALL, client=client, due_at=now, reason="weekly", dedupe_key="k1", now=now
    )
    again = actions.open_task(
        kind=TaskKind.CARE_CALL, client=client, due_at=now, reason="weekly", dedupe_key="k1", now=now
    )
    assert first.pk == again.pk
    assert Task.objects.count() == 1


def test_open_task_without_client_or_region_is_refused(now):
    with pytest.raises(ValidationError):
        actions.open_task(kind=TaskKind.FOLLOW_UP, client=None, due_at=now, reason="x", now=now)
    assert Task.objects.count() == 0


def test_escalate_then_complete_records_history_and_sends_signal_after_commit(
    client_factory, now, django_capture_on_commit_callbacks
):
    client = client_factory()
    seen = []
    signals.task_completed.connect(
        lambda sender, task, **kw: seen.append(task.pk), weak=False, dispatch_uid="test-completed"
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            task = actions.open_task(kind=TaskKind.FOLLOW_UP, client=client, due_at=now, reason="x", now=now)
            actions.escalate_task(task=task, reason="overdue", now=now + dt.timedelta(hours=1))
            assert task.escalation_level == 1 and task.team == "supervisor"
            actions.complete_task(
                task=task,
                outcome=TaskOutcome.COMPLETED,
                notes={"summary": "ok"},
                now=now + dt.timedelta(hours=2),
            )
    finally:
        signals.task_completed.disconnect(dispatch_uid="test-completed")
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    assert task.notes == {"summary": "ok"}
    assert [e.kind for e in task.events.all()] == ["opened", "escalated", "done"]
    assert seen == [task.pk]
    with pytest.raises(ValidationError):
        actions.complete_task(task=task, outcome=TaskOutcome.COMPLETED)
