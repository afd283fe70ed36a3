"""`care.bulk_open.open_tasks` means the same as `open_task`, in a fixed number of queries: the same
task row, the same "opened" event, the same audit entry (and actor), the signal after commit, and
dedupe keys respected."""

from __future__ import annotations

import datetime as dt

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pingantong.care.actions import open_task
from pingantong.care.bulk_open import NewTask, open_tasks
from pingantong.care.models import Task, TaskEvent
from pingantong.care.signals import task_opened

pytestmark = pytest.mark.django_db

COMPARED = [
    "kind",
    "client_id",
    "region_id",
    "due_at",
    "reason",
    "source",
    "source_ref",
    "owner_id",
    "team",
    "status",
    "step",
    "escalation_level",
    "attempts",
    "outcome",
    "notes",
    "evidence",
    "created_at",
    "updated_at",
    "completed_at",
]


def _entry(task: Task) -> LogEntry:
    return LogEntry.objects.get(content_type=ContentType.objects.get_for_model(Task), object_id=task.pk)


def test_a_bulk_opened_task_is_the_same_as_one_from_open_task(client_factory, now):
    client = client_factory()
    due = now + dt.timedelta(hours=2)
    evidence = {"model": "devices.device", "pk": "7"}
    one = open_task(
        kind="maintenance",
        client=client,
        due_at=due,
        reason="watch silent",
        source="device",
        source_ref="device:7",
        related=[evidence],
        now=now,
    )
    [bulk] = open_tasks(
        [
            NewTask(
                kind="maintenance",
                client_id=client.pk,
                region_id=client.region_id,
                due_at=due,
                reason="watch silent",
                source="device",
                source_ref="device:7",
                related=[evidence],
            )
        ],
        now=now,
    )
    one.refresh_from_db()
    bulk.refresh_from_db()
    assert {f: getattr(bulk, f) for f in COMPARED} == {f: getattr(one, f) for f in COMPARED}
    fields = ["kind", "at", "actor_id", "step", "level", "detail", "data"]
    assert list(TaskEvent.objects.filter(task=bulk).values(*fields)) == list(
        TaskEvent.objects.filter(task=one).values(*fields)
    )
    saved, bulked = _entry(one), _entry(bulk)
    assert bulked.action == saved.action == LogEntry.Action.CREATE
    assert set(bulked.changes) == set(saved.changes)
    assert {k: v for k, v in bulked.changes.items() if k != "id"} == {
        k: v for k, v in saved.changes.items() if k != "id"
    }
    assert bulked.object_repr == str(bulk)
    assert bulked.additional_data == saved.additional_data  # e.g. the subject's region (0081)


def test_bulk_open_sends_the_signal_after_commit_and_applies_the_audit_actor(
    client_factory, now, django_capture_on_commit_callbacks
):
    from pingantong.accounts.models import User

    actor = User.objects.create_user(username="bulk-actor", password="x")
    clients = [client_factory() for _ in range(3)]
    heard: list[int] = []

    def listen(sender, task, **kwargs):
        heard.append(task.pk)

    task_opened.connect(listen, dispatch_uid="bulk-open-test", weak=False)
    try:
        with django_capture_on_commit_callbacks(execute=True), set_actor(actor):
            tasks = open_tasks(
                [
                    NewTask(kind="visit", client_id=c.pk, region_id=c.region_id, due_at=now, reason="r")
                    for c in clients
                ],
                now=now,
            )
            assert heard == []  # not before commit
    finally:
        task_opened.disconnect(dispatch_uid="bulk-open-test")
    assert heard == [t.pk for t in tasks]
    assert all(t.team == "field_worker" for t in tasks)  # default team of a visit
    assert {_entry(t).actor_id for t in tasks} == {actor.pk}


def test_bulk_open_respects_dedupe_keys_and_takes_a_fixed_number_of_queries(client_factory, now):
    def spec(client, key):
        return NewTask(
            kind="maintenance",
            client_id=client.pk,
            region_id=client.region_id,
            due_at=now,
            reason="r",
            dedupe_key=key,
        )

    first = client_factory()
    existing = open_task(kind="maintenance", client=first, due_at=now, reason="r", dedupe_key="k0", now=now)

    def run(count: int) -> tuple[list[Task], int]:
        clients = [client_factory() for _ in range(count)]
        specs = [spec(first, "k0")] + [spec(c, f"k{count}-{n}") for n, c in enumerate(clients)]
        specs.append(spec(clients[0], f"k{count}-0"))  # the same key twice in one call
        with CaptureQueriesContext(connection) as ctx:
            opened = open_tasks(specs, now=now)
        return opened, len(ctx.captured_queries)

    few, few_queries = run(2)
    many, many_queries = run(20)
    assert len(few) == 2 and len(many) == 20
    assert existing.pk not in {t.pk for t in few + many}
    assert Task.objects.filter(dedupe_key="k0").count() == 1
    assert few_queries == many_queries


def test_bulk_open_checks_what_open_task_checks(client_factory, now):
    client = client_factory()
    good = {"client_id": client.pk, "region_id": client.region_id, "due_at": now, "reason": "r"}
    with pytest.raises(ValidationError):
        open_tasks([NewTask(kind="nonsense", **good)], now=now)
    with pytest.raises(ValidationError):
        open_tasks([NewTask(kind="visit", **{**good, "due_at": now.replace(tzinfo=None)})], now=now)
    with pytest.raises(ValidationError):
        open_tasks([NewTask(kind="visit", **{**good, "region_id": ""})], now=now)
    assert not Task.objects.exists()
