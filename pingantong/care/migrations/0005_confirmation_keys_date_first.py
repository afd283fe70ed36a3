"""Confirmation tasks' dedupe keys become `confirmation:<local date>:<client>` (were
`confirmation:<client>:<local date>`): one day's keys are then neighbours in the unique index, so
the daily sweep's 26,000 inserts touch a few hundred index pages instead of one page each
(decision 0086). Existing keys are rewritten so that the sweep finds today's."""

from __future__ import annotations

import re

from django.db import migrations

OLD = re.compile(r"^confirmation:(\d+):(\d{4}-\d{2}-\d{2})$")
NEW = re.compile(r"^confirmation:(\d{4}-\d{2}-\d{2}):(\d+)$")


def _rewrite(apps, pattern, build):
    Task = apps.get_model("care", "Task")
    batch = []
    rows = (
        Task.objects.filter(kind="confirmation", dedupe_key__startswith="confirmation:")
        .order_by()
        .only("id", "dedupe_key")
    )
    for task in rows.iterator(chunk_size=2000):
        match = pattern.match(task.dedupe_key or "")
        if match:
            task.dedupe_key = build(*match.groups())
            batch.append(task)
        if len(batch) >= 2000:
            Task.objects.bulk_update(batch, ["dedupe_key"])
            batch = []
    if batch:
        Task.objects.bulk_update(batch, ["dedupe_key"])


def date_first(apps, schema_editor):
    _rewrite(apps, OLD, lambda client, day: f"confirmation:{day}:{client}")


def client_first(apps, schema_editor):
    _rewrite(apps, NEW, lambda day, client: f"confirmation:{client}:{day}")


class Migration(migrations.Migration):
    dependencies = [("care", "0004_alter_task_client_alter_task_completed_by_and_more")]

    operations = [migrations.RunPython(date_first, client_first, elidable=True)]
