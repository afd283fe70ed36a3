"""The alarm centre's settings page and what the settings change: region by region, edited by the
agency's supervisors and administrators only, every change audit-logged, and in force for
escalation, the contact cascade's acknowledgement wait and the join window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from pingantong.alarms import actions, cascade, centre
from pingantong.alarms.models import AlarmCentreSettings, ContactAttempt
from pingantong.testing.regions import TOWN_A, TOWN_B

from .conftest import DISTRICT, OTHER_TOWN_VILLAGE, VILLAGE

pytestmark = pytest.mark.django_db

URL = "/alarms/settings/"


def form(**overrides):
    data = {
        "escalate_after_seconds": "90",
        "cascade_ack_seconds": "60",
        "join_window_seconds": "600",
        "sms_supervisor_on_escalation": "on",
    }
    data.update(overrides)
    return data


def test_url_name():
    assert reverse("alarms:settings") == URL


@pytest.mark.parametrize("role", ["agent", "district", "township", "auditor", "village", "field_worker"])
def test_only_supervisors_and_agency_admins_reach_the_page(client, user_factory, role):
    client.force_login(user_factory(role, DISTRICT))
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"region": DISTRICT, **form()}).status_code == 403
    assert not AlarmCentreSettings.objects.exists()


@pytest.mark.parametrize("role", ["supervisor", "agency_admin"])
def test_supervisor_saves_settings_in_chinese_page_and_they_are_audited(client, user_factory, role):
    editor = user_factory(role, DISTRICT, display_name="主管老陈")
    client.force_login(editor)
    page = client.get(URL, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    text = page.content.decode()
    assert "警情中心设置" in text and "无人接警多久后升级至主管" in text  # zh-Hans first
    assert "45" in text and "120" in text  # the deployment defaults are shown as in force

    response = client.post(f"{URL}?region={DISTRICT}", {"region": DISTRICT, **form()})
    assert response.status_code == 302
    row = AlarmCentreSettings.objects.get(region_id=DISTRICT)
    assert (row.escalate_after_seconds, row.cascade_ack_seconds, row.join_window_seconds) == (90, 60, 600)
    assert row.sms_supervisor_on_escalation is True and row.updated_by == editor

    entry = LogEntry.objects.get_for_object(row).get()
    assert entry.actor == editor and entry.action == LogEntry.Action.CREATE
    client.post(
        URL, {"region": DISTRICT, **form(escalate_after_seconds="30", sms_supervisor_on_escalation="")}
    )
    row.refresh_from_db()
    assert row.escalate_after_seconds == 30 and row.sms_supervisor_on_escalation is False
    update = LogEntry.objects.get_for_object(row).filter(action=LogEntry.Action.UPDATE).get()
    assert update.actor == editor and update.changes_dict["escalate_after_seconds"] == ["90", "30"]
    shown = client.get(URL).content.decode()
    assert "90 → 30" in shown and "主管老陈" in shown  # the page lists the audit trail


def test_invalid_values_are_refused_and_nothing_changes(client, supervisor):
    client.force_login(supervisor)
    response = client.post(URL, {"region": DISTRICT, **form(escalate_after_seconds="3")})
    assert response.status_code == 200 and "is-invalid" in response.content.decode()
    response = client.post(URL, {"region": DISTRICT, **form(join_window_seconds="10")})
    assert response.status_code == 200
    assert not AlarmCentreSettings.objects.exists()


def test_a_town_supervisor_cannot_set_another_town_or_the_district(client, user_factory):
    town_supervisor = user_factory("supervisor", TOWN_A)
    client.force_login(town_supervisor)
    page = client.get(URL).content.decode()
    assert f'data-region="{TOWN_A}"' in page and f'data-region="{TOWN_B}"' not in page
    # A region outside their reach falls back to their own (never saved elsewhere)…
    client.post(URL, {"region": TOWN_B, **form()})
    assert not AlarmCentreSettings.objects.filter(region_id=TOWN_B).exists()
    assert AlarmCentreSettings.objects.filter(region_id=TOWN_A).exists()
    # … and the action itself refuses it.
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        centre.update_centre_settings(
            user=town_supervisor,
            region_code=DISTRICT,
            escalate_after_seconds=60,
            cascade_ack_seconds=60,
            join_window_seconds=600,
            sms_supervisor_on_escalation=True,
        )


def test_nearest_region_wins_and_reset_follows_the_region_above(client, supervisor):
    client.force_login(supervisor)
    client.post(URL, {"region": DISTRICT, **form(escalate_after_seconds="100")})
    client.post(URL, {"region": TOWN_A, **form(escalate_after_seconds="20")})
    assert centre.settings_for(VILLAGE).escalate_after_seconds == 20
    assert centre.settings_for(OTHER_TOWN_VILLAGE).escalate_after_seconds == 100
    assert centre.settings_for("110101000000").escalate_after_seconds == 45  # elsewhere: defaults
    client.post(URL, {"region": TOWN_A, "reset": "1"})
    assert centre.settings_for(VILLAGE).escalate_after_seconds == 100
    assert LogEntry.objects.filter(action=LogEntry.Action.DELETE).count() == 1


def _set(region, user, **values):
    base = {
        "escalate_after_seconds": 45,
        "cascade_ack_seconds": 120,
        "join_window_seconds": 900,
        "sms_supervisor_on_escalation": True,
    }
    return centre.update_centre_settings(user=user, region_code=region, **(base | values))


def test_escalation_follows_the_regions_time(elder, client_factory, supervisor):
    _set(TOWN_A, supervisor, escalate_after_seconds=120)
    other = client_factory(OTHER_TOWN_VILLAGE, name="李爷爷")
    slow = actions.raise_alarm(alarm_type="sos", client=elder, at=timezone.now() - timedelta(seconds=60))
    fast = actions.raise_alarm(alarm_type="sos", client=other, at=timezone.now() - timedelta(seconds=60))
    assert actions.escalate_unclaimed() == [fast.pk]  # town A waits 120 s, town B the default 45 s
    assert actions.escalate_unclaimed(now=timezone.now() + timedelta(seconds=61)) == [slow.pk]
    assert slow.steps.get(kind="escalated").data["limit_s"] == 120


def test_cascade_waits_the_regions_acknowledgement_time(
    elder, agent, supervisor, contact_factory, django_capture_on_commit_callbacks
):
    _set(DISTRICT, supervisor, cascade_ack_seconds=40)
    contact_factory(elder, name="儿子", phone="13700000001", priority=1, preferred_channel="sms")
    alarm = actions.raise_alarm(alarm_type="sos", client=elder)
    with django_capture_on_commit_callbacks(execute=True):
        actions.claim_alarm(alarm_id=alarm.pk, user=agent)
    attempt = ContactAttempt.objects.get(alarm=alarm)
    assert abs((attempt.ack_deadline - attempt.sent_at).total_seconds() - 40) < 1
    assert cascade.ack_seconds(VILLAGE) == 40


def test_join_window_follows_the_region(elder, supervisor):
    _set(DISTRICT, supervisor, join_window_seconds=60)
    _first, created = actions.join_or_raise(alarm_type="sos", client=elder)
    assert created
    later = timezone.now() + timedelta(seconds=120)
    _second, created_again = actions.join_or_raise(alarm_type="fall", client=elder, at=later)
    assert created_again  # 120 s later is outside the region's 60 s window (the default is 900 s)
