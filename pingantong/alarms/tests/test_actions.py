"""Alarm actions: raise, join, claim by one agent, escalate, close with outcome, review (S01–S03)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from pingantong.alarms import actions
from pingantong.alarms.choices import AlarmStatus, StepKind
from pingantong.alarms.models import Alarm

from .conftest import DISTRICT, VILLAGE

pytestmark = pytest.mark.django_db


def kinds(alarm: Alarm) -> list[str]:
    return list(alarm.steps.order_by("at", "pk").values_list("kind", flat=True))


def test_raise_alarm_for_bound_client_takes_client_region_and_records_raised_step(elder):
    alarm = actions.raise_alarm(alarm_type="sos", client=elder, device_ident="4700186508", source_event_id=7)
    assert alarm.region_id == VILLAGE and alarm.priority == 1 and alarm.status == AlarmStatus.OPEN
    assert alarm.from_unbound_device is False and alarm.source_event_ids == ["7"]
    assert kinds(alarm) == [StepKind.RAISED]


def test_unbound_device_alarm_is_kept_at_district_and_flagged():
    alarm = actions.raise_alarm(alarm_type="sos", device_ident="999")
    assert alarm.region_id == DISTRICT and alarm.from_unbound_device is True


def test_unknown_alarm_type_is_refused_and_nothing_is_stored():
    with pytest.raises(ValidationError):
        actions.raise_alarm(alarm_type="zombie", device_ident="1")
    assert Alarm.objects.count() == 0


def test_repeated_alarm_from_same_client_joins_open_alarm_and_raises_priority(elder):
    first, created = actions.join_or_raise(alarm_type="removed", client=elder, device_ident="1")
    assert created and first.priority == 3
    again, created = actions.join_or_raise(
        alarm_type="removed", client=elder, device_ident="1", source_event_id=2
    )
    assert not created and again.pk == first.pk
    again.refresh_from_db()
    assert again.occurrences == 2 and again.priority == 2 and Alarm.objects.count() == 1
    third, _ = actions.join_or_raise(alarm_type="sos", client=elder, device_ident="1")
    third.refresh_from_db()
    assert third.alarm_type == "sos" and third.priority == 1 and third.occurrences == 3
    assert kinds(third).count(StepKind.REPEATED) == 2


def test_repeat_after_window_or_after_close_raises_a_new_alarm(elder, agent):
    old, _ = actions.join_or_raise(alarm_type="sos", client=elder, at=timezone.now() - timedelta(hours=2))
    new, created = actions.join_or_raise(alarm_type="sos", client=elder)
    assert created and new.pk != old.pk
    actions.close_alarm(alarm_id=new.pk, user=agent, outcome="false_alarm")
    newer, created = actions.join_or_raise(alarm_type="sos", client=elder)
    assert created and newer.pk not in (old.pk, new.pk)


def test_unbound_device_repeats_join_by_device_id():
    a, _ = actions.join_or_raise(alarm_type="sos", device_ident="999")
    b, created = actions.join_or_raise(alarm_type="sos", device_ident="999")
    c, created_other = actions.join_or_raise(alarm_type="sos", device_ident="998")
    assert not created and a.pk == b.pk and created_other and c.pk != a.pk


def test_only_one_agent_can_claim(elder, agent, agent2):
    alarm = actions.raise_alarm(alarm_type="sos", client=elder)
    actions.claim_alarm(alarm_id=alarm.pk, user=agent)
    with pytest.raises(actions.AlarmAlreadyClaimed, match="坐席小李"):
        actions.claim_alarm(alarm_id=alarm.pk, user=agent2)
    alarm.refresh_from_db()
    assert alarm.claimed_by == agent and alarm.status == AlarmStatus.CLAIMED
    assert kinds(alarm).count(StepKind.CLAIMED) == 1


def test_claim_outside_region_is_refused(elder, user_factory):
    other = user_factory("agent", "350404002000")
    alarm = actions.raise_alarm(alarm_type="sos", client=elder)
    with pytest.raises(PermissionDenied):
        actions.claim_alarm(alarm_id=alarm.pk, user=other)


def test_escalate_unclaimed_after_configured_seconds(elder, settings):
    settings.PINGANTONG_ALARM_ESCALATE_SECONDS = 45
    now = timezone.now()
    old = actions.raise_alarm(alarm_type="sos", client=elder, at=now - timedelta(seconds=50))
    young = actions.raise_alarm(alarm_type="fall", device_ident="x", at=now - timedelta(seconds=10))
    assert actions.escalate_unclaimed(now=now) == [old.pk]
    assert actions.escalate_unclaimed(now=now) == []  # idempotent
    old.refresh_from_db(), young.refresh_from_db()
    assert old.status == AlarmStatus.OPEN and old.escalated_at == now and young.escalated_at is None
    assert StepKind.ESCALATED in kinds(old)


def test_escalated_alarm_can_still_be_claimed(elder, agent):
    alarm = actions.raise_alarm(alarm_type="sos", client=elder, at=timezone.now() - timedelta(minutes=5))
    actions.escalate_unclaimed()
    assert actions.claim_alarm(alarm_id=alarm.pk, user=agent).status == AlarmStatus.CLAIMED


def test_close_requires_outcome_and_note(elder, agent):
    alarm = actions.raise_alarm(alarm_type="sos", client=elder)
    with pytest.raises(ValidationError) as err:
        actions.close_alarm(alarm_id=alarm.pk, user=agent, outcome="", note="")
    assert "outcome" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        actions.close_alarm(alarm_id=alarm.pk, user=agent, outcome="resolved_by_phone", note=" ")
    assert "note" in err.value.message_dict
    alarm.refresh_from_db()
    assert alarm.status == AlarmStatus.OPEN


def test_close_false_alarm_needs_no_review(elder, agent):
    alarm = actions.raise_alarm(alarm_type="sos", client=elder)
    actions.claim_alarm(alarm_id=alarm.pk, user=agent)
    closed = actions.close_alarm(alarm_id=alarm.pk, user=agent, outcome="false_alarm")
    assert closed.status == AlarmStatus.CLOSED and not closed.review_required and closed.closed_by == agent
    with pytest.raises(ValidationError):
        actions.close_alarm(alarm_id=alarm.pk, user=agent, outcome="false_alarm")


def test_serious_outcome_requires_review_by_another_supervisor(elder, agent, supervisor):
    alarm = actions.raise_alarm(alarm_type="fall", client=elder)
    actions.claim_alarm(alarm_id=alarm.pk, user=agent)
    closed = actions.close_alarm(
        alarm_id=alarm.pk, user=agent, outcome="ambulance", note="120 took her to 三明第一医院"
    )
    assert closed.review_required
    with pytest.raises(PermissionDenied):
        actions.review_alarm(alarm_id=alarm.pk, user=agent)
    reviewed = actions.review_alarm(alarm_id=alarm.pk, user=supervisor, note="handled well")
    assert reviewed.reviewed_by == supervisor
    assert kinds(reviewed)[-1] == StepKind.REVIEWED


def test_cannot_close_remotely_opens_onsite_visit_task_with_deadline(elder, agent):
    from pingantong.care.models import Task

    alarm = actions.raise_alarm(alarm_type="sos", client=elder)
    actions.claim_alarm(alarm_id=alarm.pk, user=agent)
    actions.close_alarm(alarm_id=alarm.pk, user=agent, outcome="onsite_visit", note="no answer from anyone")
    task = Task.objects.get()
    assert task.kind == "emergency_visit" and task.client == elder
    assert timezone.now() < task.due_at <= timezone.now() + timedelta(hours=2)
    step = alarm.steps.get(kind=StepKind.VISIT_TASK_OPENED)
    assert step.data["task_id"] == task.pk


def test_manual_step_is_recorded_with_actor_and_time(elder, agent):
    alarm = actions.raise_alarm(alarm_type="sos", client=elder)
    step = actions.record_manual_step(
        alarm_id=alarm.pk, user=agent, kind="called_120", note="ambulance on the way"
    )
    assert step.actor == agent and step.at is not None and step.kind == "called_120"
    with pytest.raises(ValidationError):
        actions.record_manual_step(alarm_id=alarm.pk, user=agent, kind="closed")


def test_signal_is_recorded_without_entering_the_queue(elder, agent):
    from pingantong.alarms.selectors import queue_for

    actions.record_signal(signal_type="low_battery", device_ident="1", client=elder)
    assert list(queue_for(agent)) == []


def test_device_silence_hook_raises_device_offline_for_the_client(elder):
    from pingantong.devices.actions import bind_device, register_device

    watch = bind_device(
        device=register_device(protocol="watch", identity="123", device_type="watch"), client=elder
    )
    alarm = actions.report_device_silent(device=watch, silent_since=timezone.now() - timedelta(hours=25))
    assert alarm.alarm_type == "device_offline" and alarm.client == elder and alarm.detail == "silent 25 h"
    again = actions.report_device_silent(device=watch, silent_since=timezone.now() - timedelta(hours=26))
    assert again.pk == alarm.pk
