"""Sending rules as pure functions, with a controlled clock."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from django.core.exceptions import ValidationError

from pingantong.notifications import rules


@pytest.mark.parametrize(
    ("utc_hour", "expected"),
    [
        (12, None),  # 20:00 Beijing: before quiet hours
        (13, datetime(2026, 11, 28, 23, 0, tzinfo=UTC)),  # 21:00 Beijing: quiet until 07:00 next morning
        (18, datetime(2026, 11, 28, 23, 0, tzinfo=UTC)),  # 02:00 Beijing (29th): quiet until 07:00 that day
        (23, None),  # 07:00 Beijing: over
    ],
)
def test_quiet_hours_span_midnight_in_beijing_time(utc_hour, expected):
    now = datetime(2026, 11, 28, utc_hour, 0, tzinfo=UTC)
    assert rules.quiet_until(now, time(21), time(7)) == expected


def test_daytime_quiet_hours_and_none():
    noon = datetime(2026, 11, 28, 4, 30, tzinfo=UTC)  # 12:30 Beijing
    assert rules.quiet_until(noon, time(12), time(14)) == datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
    assert rules.quiet_until(noon, None, None) is None


def test_retry_schedule_is_60_s_then_10_min_then_give_up():
    assert [rules.retry_delay(n) for n in (1, 2, 3)] == [60, 600, None]


def test_render_fills_placeholders_and_names_the_missing_ones():
    assert rules.render("${name}您好，${name}", {"name": "李四"}) == "李四您好，李四"
    with pytest.raises(ValidationError, match="area, event"):
        rules.render("${area}${event}", {})


@pytest.mark.django_db
def test_deployment_default_quiet_hours_apply_without_a_preference(settings):
    from pingantong.notifications import actions

    settings.NOTIFICATIONS_DEFAULT_QUIET_HOURS = "21:00-07:00"
    message = actions.send_notification(
        recipient="13900000051",
        template="fraud_s14",
        params={"summary": "诈骗"},
        purpose="fraud",
        idempotency_key="q-1",
        now=datetime(2026, 11, 28, 15, 0, tzinfo=UTC),
    )
    assert message.not_before == datetime(2026, 11, 28, 23, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_clients_quiet_hours_and_contacts_availability_hold_normal_messages():
    from pingantong.clients.testing import make_client, make_contact
    from pingantong.notifications import actions

    night = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)  # 22:00 Beijing
    client = make_client(quiet_hours_start=time(21), quiet_hours_end=time(7, 30))
    contact = make_contact(client, available_from=time(8), available_until=time(20))
    to_client = actions.send_notification(
        recipient=client.phone,
        template="fraud_s14",
        params={"summary": "诈骗"},
        purpose="fraud",
        idempotency_key="qc-1",
        client=client,
        now=night,
    )
    to_contact = actions.send_notification(
        recipient=contact.phone,
        template="fraud_s14",
        params={"summary": "诈骗"},
        purpose="fraud",
        idempotency_key="qc-2",
        client=client,
        contact=contact,
        now=night,
    )
    assert to_client.not_before == datetime(2026, 11, 28, 23, 30, tzinfo=UTC)  # 07:30 Beijing
    assert to_contact.not_before == datetime(2026, 11, 29, 0, 0, tzinfo=UTC)  # 08:00 Beijing
