"""The daily-sweep benchmark's measure of exactness (Q1, S06; issue 7's performance claim), and the
sweep checked against the rules at the edges of the window and of the Asia/Shanghai day.

`due_for_confirmation` states the rules without the sweep's code; the sweep must agree with it
client for client, whoever else is in the database (decision 0085)."""

from __future__ import annotations

import datetime as dt

import pytest

from pingantong.care.actions.confirmation import run_daily_confirmation
from pingantong.care.actions.lifesigns import record_life_sign
from pingantong.care.bench import bench_daily_sweep, confirmation_duplicates, due_for_confirmation
from pingantong.care.choices import LifeSignSource, TaskStatus
from pingantong.care.models import Task

pytestmark = pytest.mark.django_db
H = dt.timedelta(hours=1)


def _figures(result: dict) -> dict:
    return {f["name"]: f["value"] for f in result["figures"]}


def _watch(client, *, life_sign_at, seen_at):
    from pingantong.devices.models import Device, DeviceState

    device = Device.objects.create(
        protocol="watch",
        identity=f"test-watch-{client.pk}-{Device.objects.count()}",
        device_type_id="watch",
        client=client,
        region_id=client.region_id,
    )
    DeviceState.objects.create(
        device=device,
        last_device_seen_at=seen_at,
        last_message_at=seen_at,
        last_life_sign_at=life_sign_at,
        last_life_sign_source="steps" if life_sign_at else "",
    )
    return device


def test_clients_of_other_benchmarks_count_as_due_and_the_sweep_is_exact(client_factory, now):
    """A full `pingantong bench` run leaves the client-search benchmark's clients in the scratch
    database. They are real candidates of the sweep: the benchmark must count them as due (it once
    compared the sweep with its own population only and reported 17,851 opened vs 2,579 due)."""
    silent = [client_factory(categories=["living_alone"]) for _ in range(3)]
    client_factory(categories=["incapacitated"])  # no Q1 category
    client_factory(categories=["empty_nest"], status="terminated")
    walked = client_factory(categories=["childless"])
    _watch(walked, life_sign_at=now - 2 * H, seen_at=now - H)

    result = bench_daily_sweep(0.001, now=now, worklist_runs=1)
    figures = _figures(result)

    assert result["due_other_clients"] == len(silent)
    assert figures["tasks due (Q1 rules, read from the data)"] == result["due_generated"] + len(silent)
    assert figures["confirmation tasks opened"] == figures["tasks due (Q1 rules, read from the data)"]
    assert figures["opened exactly the tasks due"] == 1
    assert (figures["opened for clients not due"], figures["due but not opened"]) == (0, 0)
    assert figures["generator's plan agrees with the rules"] == 1
    assert figures["opened tasks not due within 24 h"] == 0
    assert figures["re-run opened exactly the newly due"] == 1
    assert figures["duplicate confirmation tasks"] == 0
    assert set(Task.objects.filter(client__in=silent).values_list("client_id", flat=True)) == {
        c.pk for c in silent
    }
    assert not Task.objects.filter(client=walked).exists()


def test_the_rules_and_the_sweep_agree_at_the_edge_of_the_24_hours(client_factory, now):
    at_edge = client_factory(categories=["living_alone"])
    _watch(at_edge, life_sign_at=now - 24 * H, seen_at=now - H)
    past_edge = client_factory(categories=["living_alone"])
    _watch(past_edge, life_sign_at=now - 24 * H - dt.timedelta(seconds=1), seen_at=now - H)
    heartbeat_only = client_factory(categories=["left_behind"])
    _watch(heartbeat_only, life_sign_at=None, seen_at=now - dt.timedelta(minutes=3))
    two_devices = client_factory(categories=["left_behind"])
    _watch(two_devices, life_sign_at=None, seen_at=now - H)
    _watch(two_devices, life_sign_at=now - 3 * H, seen_at=now - 3 * H)
    old_visit = client_factory(categories=["family_planning"])
    record_life_sign(client=old_visit, at=now - 30 * H, source=LifeSignSource.VISIT)
    suspended = client_factory(categories=["childless"], status="suspended")

    due = due_for_confirmation(now)
    assert due == {past_edge.pk, heartbeat_only.pk, old_visit.pk}
    assert suspended.pk not in due
    opened = run_daily_confirmation(now=now).opened
    assert set(Task.objects.filter(pk__in=opened).values_list("client_id", flat=True)) == due

    # Five minutes later the sign exactly 24 h old has aged out: that client alone is newly due.
    later = now + dt.timedelta(minutes=5)
    assert due_for_confirmation(later) == {at_edge.pk}
    again = run_daily_confirmation(now=later).opened
    assert list(Task.objects.filter(pk__in=again).values_list("client_id", flat=True)) == [at_edge.pk]
    assert confirmation_duplicates() == 0


@pytest.mark.parametrize(
    ("first", "then", "due_again"),
    [
        # 07:50 and 23:59 of the same Shanghai day (two UTC days): nothing new.
        (-dt.timedelta(hours=16, minutes=10), -dt.timedelta(minutes=1), False),
        # 23:30 and 00:01 the next Shanghai day (one UTC day): due again.
        (-dt.timedelta(minutes=30), dt.timedelta(minutes=1), True),
    ],
)
def test_one_confirmation_per_shanghai_day_across_local_midnight(client_factory, first, then, due_again):
    """The day of "one confirmation a day" is the Asia/Shanghai day (16:00 UTC is local midnight), not
    the UTC day: a task closed without a life sign leaves the silent client due again after local
    midnight, and not before it."""
    client = client_factory(categories=["living_alone"])
    # A controlled clock relative to today: local midnight is 16:00 UTC.
    midnight = dt.datetime.now(dt.UTC).replace(hour=16, minute=0, second=0, microsecond=0)
    run_daily_confirmation(now=midnight + first)
    task = Task.objects.get(client=client)
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.CANCELLED)  # e.g. closed by mistake

    now = midnight + then
    due = due_for_confirmation(now)
    opened = run_daily_confirmation(now=now).opened
    if due_again:
        assert due == {client.pk} and len(opened) == 1
    else:
        assert due == set() and opened == []
    assert confirmation_duplicates() == 0


@pytest.mark.parametrize(("status", "due_again"), [(TaskStatus.ESCALATED, False), (TaskStatus.DONE, True)])
def test_yesterdays_task_still_active_blocks_a_second_one_among_many_old_tasks(
    client_factory, now, status, due_again
):
    """The sweep finds yesterday's active task by probing the client's tasks (not by scanning all
    tasks ever opened): still escalated, no second chain; closed without a sign since, due again."""
    client = client_factory(categories=["living_alone"])
    for days in (3, 2, 1):  # one confirmation a day, the older ones closed
        run_daily_confirmation(now=now - dt.timedelta(days=days))
        Task.objects.filter(client=client).exclude(status=TaskStatus.DONE).update(status=TaskStatus.DONE)
    Task.objects.filter(client=client, created_at=now - dt.timedelta(days=1)).update(status=status)
    due = due_for_confirmation(now)
    opened = run_daily_confirmation(now=now).opened
    assert (due == {client.pk}) is due_again
    assert len(opened) == int(due_again)
    assert confirmation_duplicates() == 0


def test_confirmation_keys_are_date_first_and_the_migration_rewrites_old_ones(client_factory, now):
    """Decision 0086: `confirmation:<local date>:<client>` keeps a day's keys together in the unique
    index. Keys written before are rewritten, so that a sweep right after the upgrade still finds
    today's task and opens no second one."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("pingantong.care.migrations.0005_confirmation_keys_date_first")
    client = client_factory(categories=["living_alone"])
    run_daily_confirmation(now=now)
    task = Task.objects.get(client=client)
    day = now.astimezone(dt.timezone(dt.timedelta(hours=8))).date().isoformat()
    assert task.dedupe_key == f"confirmation:{day}:{client.pk}"

    Task.objects.filter(pk=task.pk).update(
        status=TaskStatus.DONE, dedupe_key=f"confirmation:{client.pk}:{day}"
    )
    migration.date_first(apps, None)
    task.refresh_from_db()
    assert task.dedupe_key == f"confirmation:{day}:{client.pk}"
    assert run_daily_confirmation(now=now + H).opened == []  # today's task is found: nothing new
    migration.client_first(apps, None)
    task.refresh_from_db()
    assert task.dedupe_key == f"confirmation:{client.pk}:{day}"
