"""Escalation of an unclaimed alarm also sends an SMS to the supervisors on shift for the region,
through the notifications app (development provider), recorded as messages and on the timeline,
once per escalation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from pingantong.accounts.models import Shift
from pingantong.alarms import actions, centre, tasks
from pingantong.notifications.models import Message
from pingantong.testing.regions import TOWN_A, TOWN_B

from .conftest import DISTRICT

pytestmark = pytest.mark.django_db


def on_shift(user, region, *, hours_ago=1, hours_left=7, seat="主管席"):
    now = timezone.now()
    return Shift.objects.create(
        user=user,
        region_id=region,
        seat=seat,
        starts_at=now - timedelta(hours=hours_ago),
        ends_at=now + timedelta(hours=hours_left),
    )


@pytest.fixture
def supervisors(user_factory):
    day = user_factory("supervisor", DISTRICT, display_name="值班主管", phone="13900000001")
    off = user_factory("supervisor", DISTRICT, display_name="休班主管", phone="13900000002")
    town_b = user_factory("supervisor", TOWN_B, display_name="列东主管", phone="13900000003")
    agent = user_factory("agent", DISTRICT, display_name="坐席", phone="13900000004")
    on_shift(day, DISTRICT)
    on_shift(off, DISTRICT, hours_ago=20, hours_left=-12)  # yesterday's shift, over
    on_shift(town_b, TOWN_B)  # on shift, but for another town
    on_shift(agent, DISTRICT, seat="坐席1")  # on shift, but not a supervisor
    return day, off, town_b, agent


def overdue_sos(elder, seconds=60):
    return actions.raise_alarm(alarm_type="sos", client=elder, at=timezone.now() - timedelta(seconds=seconds))


def test_escalation_texts_the_supervisor_on_shift_once(
    elder, supervisors, django_capture_on_commit_callbacks
):
    day, _off, _town_b, _agent = supervisors
    alarm = overdue_sos(elder)
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.escalate_unclaimed() == [alarm.pk]
    messages = list(
        Message.objects.filter(related=f"alarm:{alarm.pk}", template_code="alarm_escalated_supervisor")
    )
    assert [m.recipient for m in messages] == [day.phone]
    sms = messages[0]
    assert sms.channel == "sms" and sms.provider == "development" and sms.priority == "emergency"
    assert sms.status == "delivered"  # the development provider confirms at once
    assert "王奶奶" in sms.text and "超时未接警" in sms.text and str(alarm.pk) in sms.text
    step = alarm.steps.get(kind="supervisor_notified")
    assert step.data["on_shift"] is True
    assert step.data["recipients"] == [{"user_id": day.pk, "name": "值班主管", "message_id": sms.pk}]

    # No repeats: later supervision passes (web relay and worker) send nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.escalate_unclaimed(now=timezone.now() + timedelta(minutes=5)) == []
        tasks.supervise()
    from pingantong.alarms import escalation

    assert escalation.notify_supervisors(alarm_id=alarm.pk) == 0  # even asked again directly
    assert Message.objects.filter(template_code="alarm_escalated_supervisor").count() == 1
    assert alarm.steps.filter(kind="supervisor_notified").count() == 1


def test_supervisor_of_the_alarms_town_on_shift_is_texted(
    client_factory, supervisors, django_capture_on_commit_callbacks
):
    _day, _off, town_b, _agent = supervisors
    from .conftest import OTHER_TOWN_VILLAGE

    elder_b = client_factory(OTHER_TOWN_VILLAGE, name="李爷爷")
    alarm = overdue_sos(elder_b)
    with django_capture_on_commit_callbacks(execute=True):
        actions.escalate_unclaimed()
    recipients = set(
        Message.objects.filter(
            related=f"alarm:{alarm.pk}", template_code="alarm_escalated_supervisor"
        ).values_list("recipient", flat=True)
    )
    assert recipients == {"13900000001", town_b.phone}  # the district's and town B's, not the agent


def test_nobody_rostered_falls_back_to_the_regions_supervisors(
    elder, user_factory, django_capture_on_commit_callbacks
):
    boss = user_factory("supervisor", TOWN_A, display_name="城关主管", phone="13900000011")
    user_factory("supervisor", TOWN_B, phone="13900000012")  # another town: not told
    alarm = overdue_sos(elder)
    with django_capture_on_commit_callbacks(execute=True):
        actions.escalate_unclaimed()
    sms = Message.objects.get(template_code="alarm_escalated_supervisor")
    assert sms.recipient == boss.phone
    assert alarm.steps.get(kind="supervisor_notified").data["on_shift"] is False


def test_the_regions_settings_can_turn_the_sms_off(elder, supervisors, django_capture_on_commit_callbacks):
    day = supervisors[0]
    centre.update_centre_settings(
        user=day,
        region_code=DISTRICT,
        escalate_after_seconds=45,
        cascade_ack_seconds=120,
        join_window_seconds=900,
        sms_supervisor_on_escalation=False,
    )
    alarm = overdue_sos(elder)
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.escalate_unclaimed() == [alarm.pk]
    assert alarm.steps.filter(kind="escalated").exists()  # still escalated on the screens
    assert not Message.objects.filter(template_code="alarm_escalated_supervisor").exists()


def test_a_claimed_alarm_is_never_escalated_nor_texted(
    elder, agent, supervisors, django_capture_on_commit_callbacks
):
    alarm = overdue_sos(elder)
    with django_capture_on_commit_callbacks(execute=True):
        actions.claim_alarm(alarm_id=alarm.pk, user=agent)
        assert actions.escalate_unclaimed() == []
    assert not Message.objects.filter(template_code="alarm_escalated_supervisor").exists()
