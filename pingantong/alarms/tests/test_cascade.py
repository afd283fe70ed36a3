"""The contact cascade (S01, S08): one contact after another until one acknowledges; every
transmission on the timeline; the street-designated contact for special-difficulty clients;
the location link only with consent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from pingantong.alarms import actions, cascade
from pingantong.alarms.models import ContactAttempt

pytestmark = pytest.mark.django_db


@pytest.fixture
def family(elder, contact_factory):
    son = contact_factory(elder, name="儿子", phone="13700000001", priority=1, preferred_channel="sms")
    daughter = contact_factory(elder, name="女儿", phone="13700000002", priority=2, preferred_channel="sms")
    street = contact_factory(
        elder,
        name="街道联络员",
        phone="13700000009",
        priority=9,
        is_street_designated=True,
        preferred_channel="sms",
    )
    return son, daughter, street


def kinds(alarm):
    return list(alarm.steps.order_by("at", "pk").values_list("kind", flat=True))


def claimed_sos(elder, agent, run):
    alarm = actions.raise_alarm(alarm_type="sos", client=elder, latitude=26.2634, longitude=117.6389)
    with run(execute=True):
        actions.claim_alarm(alarm_id=alarm.pk, user=agent)
    return alarm


def test_claim_starts_cascade_with_first_contact_and_street_contact(
    elder, agent, family, django_capture_on_commit_callbacks
):
    son, _daughter, street = family
    alarm = claimed_sos(elder, agent, django_capture_on_commit_callbacks)
    attempts = list(ContactAttempt.objects.filter(alarm=alarm).order_by("order"))
    assert [(a.contact, a.state) for a in attempts] == [(street, "informed"), (son, "waiting")]
    sent = alarm.steps.filter(kind="notification_sent")
    assert sent.count() == 2 and {s.data["contact"] for s in sent} == {"儿子", "街道联络员"}
    assert all(s.data["message_id"] for s in sent)


def test_not_acknowledged_in_time_moves_to_next_contact_then_ack_stops(
    elder, agent, family, settings, django_capture_on_commit_callbacks
):
    from pingantong.notifications.actions import acknowledge_message

    settings.PINGANTONG_CASCADE_ACK_SECONDS = 60
    son, daughter, _street = family
    alarm = claimed_sos(elder, agent, django_capture_on_commit_callbacks)
    assert cascade.advance_due() == 0  # nobody late yet
    with django_capture_on_commit_callbacks(execute=True):
        cascade.advance_due(now=timezone.now() + timedelta(seconds=61))
    first = ContactAttempt.objects.get(alarm=alarm, contact=son)
    second = ContactAttempt.objects.get(alarm=alarm, contact=daughter)
    assert first.state == "timed_out" and second.state == "waiting"
    acknowledge_message(message=second.message, answer="1")
    cascade.advance_due()
    second.refresh_from_db()
    assert second.state == "acknowledged"
    steps = kinds(alarm)
    assert steps.count("notification_sent") == 3 and "notification_failed" in steps
    assert "notification_delivered" in steps and steps[-1] == "notification_acknowledged"


def test_cascade_exhausted_is_recorded(elder, agent, family, settings, django_capture_on_commit_callbacks):
    settings.PINGANTONG_CASCADE_ACK_SECONDS = 10
    alarm = claimed_sos(elder, agent, django_capture_on_commit_callbacks)
    later = timezone.now() + timedelta(seconds=11)
    with django_capture_on_commit_callbacks(execute=True):
        cascade.advance_due(now=later)
    with django_capture_on_commit_callbacks(execute=True):
        cascade.advance_due(now=later + timedelta(seconds=11))
    assert kinds(alarm)[-1] == "cascade_exhausted"


def test_location_link_only_with_consent(elder):
    from pingantong.clients.models import Consent

    alarm = actions.raise_alarm(alarm_type="sos", client=elder, latitude=26.2634, longitude=117.6389)
    assert cascade.location_link(alarm) == ""
    Consent.objects.create(
        client=elder, purpose="location_share", granted=True, effective_at=timezone.now(), method="written"
    )
    link = cascade.location_link(alarm)
    assert "/notifications/" in link  # the notifications app's signed, expiring share page


def test_escalation_starts_the_cascade_when_nobody_claims(elder, family, django_capture_on_commit_callbacks):
    alarm = actions.raise_alarm(alarm_type="sos", client=elder, at=timezone.now() - timedelta(minutes=2))
    with django_capture_on_commit_callbacks(execute=True):
        actions.escalate_unclaimed()
    assert ContactAttempt.objects.filter(alarm=alarm).count() == 2


def test_closing_stops_waiting_for_contacts(elder, agent, family, django_capture_on_commit_callbacks):
    alarm = claimed_sos(elder, agent, django_capture_on_commit_callbacks)
    actions.close_alarm(alarm_id=alarm.pk, user=agent, outcome="false_alarm")
    assert not ContactAttempt.objects.filter(alarm=alarm, state="waiting").exists()


def test_unbound_alarm_has_no_cascade(agent, django_capture_on_commit_callbacks):
    alarm = actions.raise_alarm(alarm_type="sos", device_ident="999")
    with django_capture_on_commit_callbacks(execute=True):
        actions.claim_alarm(alarm_id=alarm.pk, user=agent)
    assert not ContactAttempt.objects.filter(alarm=alarm).exists()
