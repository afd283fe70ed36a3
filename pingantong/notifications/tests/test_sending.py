"""Sending rules: lifecycle, idempotency, retries at 60 s and 10 min, fallback to voice, quiet
hours, rate limits and deduplication."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError

from pingantong.notifications import actions
from pingantong.notifications.channels.base import PermanentError, Receipt, TransientError
from pingantong.notifications.choices import ChannelKind, MessageStatus, Priority, Purpose
from pingantong.notifications.models import Message, RecipientPreference
from pingantong.notifications.tasks import deliver_message_task

pytestmark = pytest.mark.django_db(transaction=False)

PARAMS = {"name": "张三", "time": "10:00", "vital": "心率", "value": "150"}


def send(key="k1", **kw):
    args = dict(  # noqa: C408
        recipient="13900000001",
        template="vitals_s23",
        params=PARAMS,
        channel=ChannelKind.SMS,
        purpose=Purpose.VITALS,
        priority=Priority.NORMAL,
        idempotency_key=key,
    )
    args.update(kw)
    return actions.send_notification(**args)


def test_send_renders_template_and_walks_queued_sent_delivered_acknowledged(
    sms, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = send()
    message.refresh_from_db()
    assert sms.calls[0].text == "【平安通】健康预警：张三于10:00测得心率为150，超出正常范围，请及时关注。"
    assert message.status == MessageStatus.SENT and message.sent_at and message.provider_message_id == "p-1"
    assert message.delivered_at is None and message.acknowledged_at is None  # sent is not delivered
    actions.apply_receipt(receipt=Receipt(provider_message_id="p-1", delivered=True))
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED and message.delivered_at
    assert message.acknowledged_at is None  # delivered is not acknowledged
    actions.apply_receipt(receipt=Receipt(provider_message_id="p-1", answer="1"))
    message.refresh_from_db()
    assert message.status == MessageStatus.ACKNOWLEDGED and message.ack_result == "1"


def test_same_idempotency_key_returns_the_same_message_and_sends_once(
    sms, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = send()
        second = send()
    assert first.pk == second.pk and len(sms.calls) == 1


def test_running_the_send_job_twice_calls_the_provider_once(sms, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = send()
    deliver_message_task(message.pk)
    deliver_message_task(message.pk)
    assert len(sms.calls) == 1


def test_a_claimed_message_is_not_sent_by_a_concurrent_job(sms):
    message = send()  # not committed → not delivered yet
    now = datetime.now(UTC)
    Message.objects.filter(pk=message.pk).update(claimed_until=now + timedelta(minutes=5))
    outcome = actions.deliver_message(message_id=message.pk, now=now)
    assert not outcome.called_provider and sms.calls == []


def test_transient_failures_retry_after_60_s_then_10_min_then_fail(sms, huey):
    sms.errors = [TransientError("isv.BUSINESS_LIMIT_CONTROL")] * 3
    message = send()
    t0 = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
    first = actions.deliver_message(message_id=message.pk, now=t0)
    assert first.retry_at == t0 + timedelta(seconds=60)
    # Too early: the job does nothing.
    assert not actions.deliver_message(message_id=message.pk, now=t0 + timedelta(seconds=30)).called_provider
    second = actions.deliver_message(message_id=message.pk, now=t0 + timedelta(seconds=60))
    assert second.retry_at == t0 + timedelta(seconds=660)
    third = actions.deliver_message(message_id=message.pk, now=t0 + timedelta(seconds=660))
    message.refresh_from_db()
    assert third.retry_at is None and message.status == MessageStatus.FAILED
    assert (
        message.failure_code == "isv.BUSINESS_LIMIT_CONTROL" and message.attempts == 3 and message.failed_at
    )


def test_the_task_schedules_its_retry_in_huey_with_the_eta(sms, huey, django_capture_on_commit_callbacks):
    sms.errors = [TransientError("timeout")]
    with django_capture_on_commit_callbacks(execute=True):
        message = send()
    message.refresh_from_db()
    scheduled = huey.scheduled()
    assert len(scheduled) == 1 and scheduled[0].args == (message.pk,)
    eta = scheduled[0].eta.replace(tzinfo=UTC)
    assert abs((eta - message.next_attempt_at).total_seconds()) < 1
    assert 55 <= (message.next_attempt_at - message.queued_at).total_seconds() <= 65
    # When the eta comes, the scheduled task sends it.
    Message.objects.filter(pk=message.pk).update(next_attempt_at=datetime.now(UTC))
    huey.execute(scheduled[0], timestamp=scheduled[0].eta)
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and len(sms.calls) == 2


def test_permanent_failure_is_not_retried(sms, huey, django_capture_on_commit_callbacks):
    sms.errors = [PermanentError("InvalidAccessKeyId.NotFound", "Specified access key is not found.")]
    with django_capture_on_commit_callbacks(execute=True):
        message = send()
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED and message.failure_code == "InvalidAccessKeyId.NotFound"
    assert huey.scheduled() == []


def test_sms_for_someone_who_cannot_read_becomes_a_voice_call(sms, voice, django_capture_on_commit_callbacks):
    RecipientPreference.objects.create(recipient="13900000001", cannot_read=True)
    with django_capture_on_commit_callbacks(execute=True):
        message = send()
    assert message.channel == ChannelKind.VOICE and message.require_ack
    assert sms.calls == [] and len(voice.calls) == 1


def test_quiet_hours_hold_normal_messages_but_not_emergencies(sms, huey, django_capture_on_commit_callbacks):
    RecipientPreference.objects.create(recipient="13900000001", quiet_start=time(21), quiet_end=time(7))
    # A night in the future: delivery compares the hold with the real clock.
    night = datetime(2036, 11, 28, 15, 30, tzinfo=UTC)  # 23:30 Beijing
    with django_capture_on_commit_callbacks(execute=True):
        held = send(now=night)
        urgent = send(key="k2", priority=Priority.EMERGENCY, now=night)
    assert held.not_before == datetime(2036, 11, 28, 23, 0, tzinfo=UTC)  # 07:00 Beijing
    assert [c.idempotency_key for c in sms.calls] == ["k2"]
    assert urgent.status == MessageStatus.QUEUED  # (the instance; the row is sent)
    assert huey.scheduled()[0].args == (held.pk,)


def test_duplicates_within_ten_minutes_are_suppressed_not_sent(sms, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send(key="a")
        dup = send(key="b")
    assert dup.status == MessageStatus.SUPPRESSED and dup.failure_code == "duplicate"
    assert len(sms.calls) == 1


def test_rate_limit_per_recipient_suppresses_normal_but_not_emergency(
    sms, django_capture_on_commit_callbacks
):
    RecipientPreference.objects.create(recipient="13900000001", max_per_hour=2)
    with django_capture_on_commit_callbacks(execute=True):
        send(key="a", params={**PARAMS, "value": "1"})
        send(key="b", params={**PARAMS, "value": "2"})
        limited = send(key="c", params={**PARAMS, "value": "3"})
        urgent = send(key="d", params={**PARAMS, "value": "4"}, priority=Priority.EMERGENCY)
    assert limited.status == MessageStatus.SUPPRESSED and limited.failure_code == "rate_limited"
    assert urgent.status == MessageStatus.QUEUED and len(sms.calls) == 3


def test_missing_parameter_is_a_clear_error_and_nothing_is_recorded(sms):
    with pytest.raises(ValidationError, match="value"):
        send(params={"name": "张三", "time": "1", "vital": "心率"})
    assert Message.objects.count() == 0


def test_unknown_template_is_refused(sms):
    with pytest.raises(ValidationError, match="nope"):
        send(template="nope")


def test_failed_delivery_receipt_marks_the_message_failed_with_the_reason(
    sms, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = send()
    actions.apply_receipt(receipt=Receipt(provider_message_id="p-1", delivered=False, code="MK:0001"))
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED and message.failure_code == "MK:0001"


def test_acknowledge_refuses_a_message_not_yet_sent(sms):
    message = send()
    with pytest.raises(ValidationError):
        actions.acknowledge_message(message=message)


def test_failed_emergency_sms_falls_back_to_a_voice_call(sms, voice, django_capture_on_commit_callbacks):
    sms.errors = [PermanentError("isv.MOBILE_NUMBER_ILLEGAL")]
    with django_capture_on_commit_callbacks(execute=True):
        failed = send(
            template="sos_contact",
            priority=Priority.EMERGENCY,
            purpose=Purpose.SOS,
            params={"name": "张三", "time": "10:00", "link": "https://x.invalid/s/1"},
            related="alarm:3",
        )
    fallback = Message.objects.get(fallback_of=failed)
    assert fallback.channel == ChannelKind.VOICE and fallback.template_code == "sos_contact_voice"
    assert fallback.require_ack and fallback.related == "alarm:3"
    assert (
        voice.calls[0].text
        == "平安通紧急通知：您的家人张三刚刚发出了紧急求助，请尽快与TA联系。确认收到请按1。"
    )


def test_failed_normal_sms_has_no_voice_fallback(sms, voice, django_capture_on_commit_callbacks):
    sms.errors = [PermanentError("isv.MOBILE_NUMBER_ILLEGAL")]
    with django_capture_on_commit_callbacks(execute=True):
        send()
    assert voice.calls == [] and Message.objects.count() == 1
