"""Daily life-status confirmation (Q1, S04–S06): the sweep and the escalation chain, on a fixed clock."""

from __future__ import annotations

import datetime as dt

import pytest

from pingantong.care.actions import confirmation, record_care_call
from pingantong.care.actions.calls import record_automated_call_result
from pingantong.care.actions.lifesigns import record_life_sign
from pingantong.care.actions.visits import record_visit_not_found
from pingantong.care.choices import LifeSignSource, TaskKind, TaskOutcome, TaskStatus, TaskStep
from pingantong.care.models import DailyCoverage, LifeSign, Task

pytestmark = pytest.mark.django_db
H = dt.timedelta(hours=1)


def test_day_without_life_sign_opens_one_confirmation_task_due_within_24_hours(client_factory, now):
    client = client_factory(categories=["living_alone"])
    result = confirmation.run_daily_confirmation(now=now)
    task = Task.objects.get()
    assert result.opened == [task.pk]
    assert (task.kind, task.client_id, task.step, task.status) == (
        TaskKind.CONFIRMATION,
        client.pk,
        TaskStep.AUTOMATED_CALL,
        TaskStatus.OPEN,
    )
    assert task.due_at == now + 24 * H
    coverage = DailyCoverage.objects.get()
    assert (coverage.region_id, coverage.due, coverage.confirmed_by_life_sign, coverage.tasks_opened) == (
        client.region_id,
        1,
        0,
        1,
    )


def test_rerunning_the_sweep_opens_no_duplicate(client_factory, now):
    client_factory(categories=["empty_nest"])
    confirmation.run_daily_confirmation(now=now)
    again = confirmation.run_daily_confirmation(now=now + 2 * H)
    assert again.opened == [] and again.already_open == 1
    assert Task.objects.count() == 1
    assert DailyCoverage.objects.get().tasks_opened == 1


def test_a_life_sign_within_the_day_opens_nothing_and_counts_as_confirmed(client_factory, now):
    client = client_factory(categories=["childless"])
    record_life_sign(client=client, at=now - 20 * H, source=LifeSignSource.CALL_ANSWERED)
    result = confirmation.run_daily_confirmation(now=now)
    assert result.opened == [] and result.confirmed_by_life_sign == 1
    assert DailyCoverage.objects.get().confirmed_by_life_sign == 1


def test_a_life_sign_older_than_24_hours_does_not_count(client_factory, now):
    client = client_factory(categories=["left_behind"])
    record_life_sign(client=client, at=now - 25 * H, source=LifeSignSource.VISIT)
    assert len(confirmation.run_daily_confirmation(now=now).opened) == 1


def test_only_the_configured_categories_need_daily_confirmation(client_factory, now, settings):
    client_factory(categories=["incapacitated"])
    client_factory(categories=["family_planning"])
    client_factory(categories=["living_alone"], status="terminated")
    assert len(confirmation.run_daily_confirmation(now=now).opened) == 1
    settings.PINGANTONG_CARE_CONFIRMATION_CATEGORIES = {"incapacitated"}
    assert len(confirmation.run_daily_confirmation(now=now + H).opened) == 1
    assert Task.objects.count() == 2


def test_client_without_phone_starts_with_the_agent(client_factory, now):
    client_factory(categories=["living_alone"], phone="")
    confirmation.run_daily_confirmation(now=now)
    assert Task.objects.get().step == TaskStep.AGENT_CALL


def test_escalation_chain_automated_call_then_agent_then_visit_then_supervisor(
    client_factory, now, user_factory
):
    client = client_factory(categories=["living_alone"])
    agent = user_factory("agent", client.region_id)
    worker = user_factory("field_worker", client.region_id)
    confirmation.run_daily_confirmation(now=now)
    task = Task.objects.get()

    # Automated call unanswered: retried ~10 minutes later, still the automated step.
    task = record_automated_call_result(task=task, answer=None, now=now + dt.timedelta(minutes=1))
    assert (task.step, task.attempts) == (TaskStep.AUTOMATED_CALL, 1)
    assert task.due_at == now + dt.timedelta(minutes=11)
    # Second time unanswered: an agent's call.
    task = record_automated_call_result(task=task, answer=None, now=now + dt.timedelta(minutes=12))
    assert (task.step, task.team, task.escalation_level) == (TaskStep.AGENT_CALL, "agent", 1)
    # Two unanswered agent calls: a visit.
    record_care_call(client=client, by=agent, result="no_answer", task=task, now=now + H)
    record_care_call(client=client, by=agent, result="no_answer", task=task, now=now + 2 * H)
    task.refresh_from_db()
    assert (task.step, task.team, task.escalation_level) == (TaskStep.VISIT, "field_worker", 2)
    # Not found at home: the supervisor.
    task = record_visit_not_found(task=task, by=worker, reason="nobody home", now=now + 5 * H)
    assert (task.step, task.team, task.escalation_level, task.status) == (
        TaskStep.SUPERVISOR,
        "supervisor",
        3,
        TaskStatus.ESCALATED,
    )
    assert list(task.events.values_list("kind", "step")) == [
        ("opened", "automated_call"),
        ("attempt", "automated_call"),
        ("escalated", "agent_call"),
        ("attempt", "agent_call"),
        ("attempt", "agent_call"),
        ("escalated", "visit"),
        ("escalated", "supervisor"),
    ]
    assert not LifeSign.objects.exists()  # nobody was reached


def test_keypress_1_confirms_and_is_a_life_sign(client_factory, now):
    client = client_factory(categories=["living_alone"])
    confirmation.run_daily_confirmation(now=now)
    task = record_automated_call_result(task=Task.objects.get(), answer="1", now=now + H)
    assert (task.status, task.outcome) == (TaskStatus.DONE, TaskOutcome.CONFIRMED_WELL)
    sign = LifeSign.objects.get(client=client)
    assert (sign.source, sign.at) == (LifeSignSource.CALL_ANSWERED, now + H)


def test_keypress_2_is_a_life_sign_and_asks_an_agent_to_call_back(client_factory, now):
    client_factory(categories=["living_alone"])
    confirmation.run_daily_confirmation(now=now)
    task = record_automated_call_result(task=Task.objects.get(), answer="2", now=now + H)
    assert (task.status, task.step, task.due_at) == (TaskStatus.ESCALATED, TaskStep.AGENT_CALL, now + 1.5 * H)
    assert LifeSign.objects.count() == 1


def test_answered_agent_call_with_concerns_confirms_and_opens_a_follow_up(client_factory, now, user_factory):
    client = client_factory(categories=["living_alone"], phone="")
    agent = user_factory("agent", client.region_id)
    confirmation.run_daily_confirmation(now=now)
    task = Task.objects.get()
    record_care_call(
        client=client,
        by=agent,
        result="answered",
        task=task,
        mood="low",
        health="fair",
        needs=["medical"],
        concerns="Out of blood-pressure tablets",
        now=now + H,
    )
    task.refresh_from_db()
    assert (task.status, task.outcome) == (TaskStatus.DONE, TaskOutcome.CONFIRMED_NEEDS_HELP)
    follow_up = Task.objects.get(kind=TaskKind.FOLLOW_UP)
    assert "blood-pressure" in follow_up.reason and follow_up.due_at == now + 25 * H
    assert task.notes["follow_ups"] == [follow_up.pk]


def test_overdue_sweep_moves_a_step_once_per_grace_period(client_factory, now):
    client_factory(categories=["living_alone"], phone="")
    confirmation.run_daily_confirmation(now=now)
    later = now + 25 * H
    assert len(confirmation.escalate_overdue_tasks(now=later)) == 1
    assert confirmation.escalate_overdue_tasks(now=later + dt.timedelta(minutes=5)) == []
    task = Task.objects.get()
    assert (task.step, task.escalation_level) == (TaskStep.VISIT, 1)


def test_voice_channel_keypress_flows_back_into_the_task(
    client_factory, now, django_capture_on_commit_callbacks
):
    from pingantong.care import voice
    from pingantong.notifications.actions import acknowledge_message
    from pingantong.notifications.models import Message

    client_factory(categories=["living_alone"])
    with django_capture_on_commit_callbacks(execute=True):
        confirmation.run_daily_confirmation(now=now)
    task = Task.objects.get()
    message = Message.objects.get(related=f"care_task:{task.pk}")
    assert (message.channel, message.require_ack) == ("voice", True)
    assert voice.collect_call_results(now=now + dt.timedelta(seconds=30)) == 0  # still ringing
    acknowledge_message(message=message, answer="1", now=now + dt.timedelta(minutes=1))
    assert voice.collect_call_results(now=now + dt.timedelta(minutes=2)) == 1
    task.refresh_from_db()
    assert task.outcome == TaskOutcome.CONFIRMED_WELL


def test_automated_confirmation_call_waits_for_the_end_of_quiet_hours(
    client_factory, now, monkeypatch, django_capture_on_commit_callbacks
):
    import datetime as _dt

    from pingantong.care import voice

    placed = []
    monkeypatch.setattr(
        voice, "place_confirmation_calls", lambda ids, eta=None: placed.append((list(ids), eta))
    )
    quiet = client_factory(
        categories=["living_alone"], quiet_hours_start=_dt.time(20, 0), quiet_hours_end=_dt.time(10, 30)
    )
    awake = client_factory(categories=["living_alone"])
    with django_capture_on_commit_callbacks(execute=True):
        confirmation.run_daily_confirmation(now=now)  # 10:00 in Shanghai
    quiet_task, awake_task = Task.objects.get(client=quiet), Task.objects.get(client=awake)
    assert sorted(placed, key=lambda p: p[1] is not None) == [
        ([awake_task.pk], None),
        ([quiet_task.pk], now + 0.5 * H),
    ]
    assert confirmation.quiet_end_after(now, _dt.time(22, 0), _dt.time(7, 0)) is None


def test_a_client_asking_for_a_call_keeps_the_task_open_after_later_life_signs(client_factory, now):
    client = client_factory(categories=["living_alone"])
    confirmation.run_daily_confirmation(now=now)
    task = record_automated_call_result(task=Task.objects.get(), answer="2", now=now + H)
    record_life_sign(client=client, at=now + 2 * H, source=LifeSignSource.VISIT)
    assert confirmation.close_confirmed_tasks(now=now + 3 * H) == []
    task.refresh_from_db()
    assert task.is_active and task.notes["callback_requested"] is True
