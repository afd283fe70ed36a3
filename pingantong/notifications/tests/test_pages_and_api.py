"""Pages and API: region-scoped lists, the development channel's keypress button (what the alarm
centre's end-to-end test uses), template editing with preview, provider callbacks, the API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pingantong.accounts.choices import Role
from pingantong.notifications import actions
from pingantong.notifications.choices import ChannelKind, MessageStatus, Purpose
from pingantong.notifications.models import Message, Template

pytestmark = pytest.mark.django_db

OTHER_TOWN = "350404002000"
PARAMS = {"summary": "冒充公检法的诈骗电话"}


def send(key, region="350404001001", recipient="13900000001"):
    return actions.send_notification(
        recipient=recipient,
        template="fraud_s14",
        params=PARAMS,
        channel=ChannelKind.SMS,
        purpose=Purpose.FRAUD,
        idempotency_key=key,
        region_id=region,
    )


@pytest.fixture
def delivered(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        mine = send("mine")
        theirs = send("theirs", region="350404002001", recipient="13900000002")
    return mine, theirs


def test_message_list_is_region_scoped_and_masks_numbers(client, user_factory, delivered):
    client.force_login(user_factory(Role.AGENT, "350404001000"))
    body = client.get(reverse("notifications:message-list")).content.decode()
    assert (
        f'data-message-id="{delivered[0].pk}"' in body and f'data-message-id="{delivered[1].pk}"' not in body
    )
    assert "13900000001" not in body and "139****0001" in body


def test_simulated_keypress_acknowledges_a_development_message(client, user_factory, delivered):
    client.force_login(user_factory(Role.AGENT))
    mine = delivered[0]
    assert Message.objects.get(pk=mine.pk).status == MessageStatus.DELIVERED
    response = client.post(reverse("notifications:message-acknowledge", args=[mine.pk]), {"answer": "1"})
    mine.refresh_from_db()
    assert (
        response.status_code == 302 and mine.status == MessageStatus.ACKNOWLEDGED and mine.ack_result == "1"
    )


def test_keypress_on_another_regions_message_is_not_found(client, user_factory, delivered):
    client.force_login(user_factory(Role.AGENT, "350404001000"))
    response = client.post(reverse("notifications:message-acknowledge", args=[delivered[1].pk]))
    assert response.status_code == 404


def test_auditor_can_read_but_not_acknowledge(client, user_factory, delivered):
    client.force_login(user_factory(Role.AUDITOR))
    assert client.get(reverse("notifications:message-list")).status_code == 200
    assert (
        client.post(reverse("notifications:message-acknowledge", args=[delivered[0].pk])).status_code == 403
    )


def test_template_preview_fills_sample_values_and_counts_sms(client, user_factory):
    client.force_login(user_factory(Role.AGENCY_ADMIN))
    body = client.post(
        reverse("notifications:template-preview"), {"text": "${name}您好，${area}有暴雨"}
    ).content.decode()
    assert "张三您好，三元区有暴雨" in body and "1 " in body


def test_template_edit_saves_and_rejects_broken_placeholders(client, user_factory):
    client.force_login(user_factory(Role.AGENCY_ADMIN))
    template = Template.objects.get(code="fraud_s14")
    url = reverse("notifications:template-edit", args=[template.pk])
    data = {
        "code": "fraud_s14",
        "name": "防诈",
        "purpose": "fraud",
        "text": "【平安通】${summary}",
        "active": "on",
        "aliyun_sms_code": "SMS_123",
        "aliyun_tts_code": "",
        "tencent_template_id": "2001",
        "wechat_template_id": "",
    }
    assert client.post(url, data).status_code == 302
    template.refresh_from_db()
    assert template.aliyun_sms_code == "SMS_123" and template.provider_code("tencent") == "2001"
    response = client.post(url, {**data, "text": "【平安通】${summary"})
    template.refresh_from_db()
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert template.text == "【平安通】${summary}"  # unchanged


def test_agent_may_not_edit_templates(client, user_factory):
    client.force_login(user_factory(Role.AGENT))
    template = Template.objects.get(code="fraud_s14")
    assert client.get(reverse("notifications:template-edit", args=[template.pk])).status_code == 403


def test_aliyun_voice_report_callback_acknowledges_the_call(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = send("voice-1")
    Message.objects.filter(pk=message.pk).update(
        provider_message_id="116012354148^10281378", status=MessageStatus.SENT, delivered_at=None
    )
    payload = [
        {
            "call_id": "116012354148^10281378",
            "status_code": "200000",
            "dtmf": "1",
            "duration": "9",
            "out_id": "voice-1",
            "end_time": "2026-11-28 10:01:00",
        }
    ]
    response = client.post(
        reverse("notifications:hook-aliyun-voice"), payload, content_type="application/json"
    )
    message.refresh_from_db()
    assert response.json() == {"code": 0, "msg": "成功"}
    assert message.status == MessageStatus.ACKNOWLEDGED and message.ack_result == "1"


def test_callback_with_wrong_token_is_refused(client, monkeypatch):
    monkeypatch.setenv("PINGANTONG_CALLBACK_TOKEN", "t0ken")
    response = client.post(
        reverse("notifications:hook-aliyun-sms") + "?token=bad", [], content_type="application/json"
    )
    assert response.status_code == 403


def test_api_lists_messages_in_region_with_bounded_queries(
    api_client, user_factory, delivered, django_assert_max_num_queries
):
    for i in range(5):
        send(f"extra-{i}", recipient=f"1390000010{i}")
    api_client.force_authenticate(user_factory(Role.SUPERVISOR, "350404001000"))
    with django_assert_max_num_queries(8):
        data = api_client.get("/api/v1/notifications/messages/").json()
    ids = [row["id"] for row in data["results"]]
    assert delivered[0].pk in ids and delivered[1].pk not in ids and len(ids) == 6
    assert data["results"][0]["recipient"].count("*") == 4


def test_api_send_then_acknowledge(api_client, user_factory, django_capture_on_commit_callbacks):
    api_client.force_authenticate(user_factory(Role.AGENT))
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            "/api/v1/notifications/messages/send/",
            {
                "recipient": "13900000009",
                "template": "fraud_s14",
                "params": PARAMS,
                "idempotency_key": "api-1",
                "region": "350404001001",
            },
            format="json",
        )
    assert response.status_code == 201
    message_id = response.json()["id"]
    ack = api_client.post(f"/api/v1/notifications/messages/{message_id}/acknowledge/", {"answer": "1"})
    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"


def test_api_send_outside_own_region_is_forbidden(api_client, user_factory):
    api_client.force_authenticate(user_factory(Role.AGENT, "350404001000"))
    response = api_client.post(
        "/api/v1/notifications/messages/send/",
        {
            "recipient": "13900000009",
            "template": "fraud_s14",
            "params": PARAMS,
            "idempotency_key": "api-2",
            "region": "350404002001",
        },
        format="json",
    )
    assert response.status_code == 403 and not Message.objects.exists()


def test_api_broadcast_create_and_approve(api_client, user_factory, django_capture_on_commit_callbacks):
    api_client.force_authenticate(user_factory(Role.DISTRICT))
    created = api_client.post(
        "/api/v1/notifications/broadcasts/",
        {"kind": "fraud", "title": "防诈", "region": "350404000000", "params": PARAMS},
        format="json",
    )
    assert created.status_code == 201 and created.json()["status"] == "draft"
    with django_capture_on_commit_callbacks(execute=True):
        approved = api_client.post(f"/api/v1/notifications/broadcasts/{created.json()['id']}/approve/")
    assert approved.status_code == 200
    report = api_client.get(f"/api/v1/notifications/broadcasts/{created.json()['id']}/report/").json()
    assert report["status"] == "done" and "counts" in report["report"]


def test_api_templates_are_editable_only_by_managers(api_client, user_factory):
    template = Template.objects.get(code="policy_s15")
    api_client.force_authenticate(user_factory(Role.AGENT))
    assert (
        api_client.patch(f"/api/v1/notifications/templates/{template.pk}/", {"name": "x"}).status_code == 404
    )
    api_client.force_authenticate(user_factory(Role.SYSADMIN))
    assert (
        api_client.patch(f"/api/v1/notifications/templates/{template.pk}/", {"name": "x"}).status_code == 200
    )


def test_agent_marks_a_number_as_cannot_read_and_the_next_sms_becomes_a_call(
    client, user_factory, django_capture_on_commit_callbacks
):
    from pingantong.notifications.models import RecipientPreference

    client.force_login(user_factory(Role.AGENT))
    response = client.post(
        reverse("notifications:preference-create"),
        {
            "recipient": "139 0000 0077",
            "cannot_read": "on",
            "quiet_start": "",
            "quiet_end": "",
            "max_per_hour": 10,
            "region": "350404001001",
        },
    )
    assert response.status_code == 302
    assert RecipientPreference.objects.get().recipient == "13900000077"
    with django_capture_on_commit_callbacks(execute=True):
        message = send("pref-1", recipient="13900000077")
    assert message.channel == ChannelKind.VOICE
    listing = client.get(reverse("notifications:preference-list")).content.decode()
    assert "13900000077" not in listing and "139****0077" in listing


def test_preference_with_half_quiet_hours_is_refused(client, user_factory):
    from pingantong.notifications.models import RecipientPreference

    client.force_login(user_factory(Role.AGENT))
    response = client.post(
        reverse("notifications:preference-create"),
        {
            "recipient": "13900000078",
            "quiet_start": "21:00",
            "quiet_end": "",
            "max_per_hour": 10,
            "region": "350404001001",
        },
    )
    assert response.status_code == 200 and not RecipientPreference.objects.exists()


def test_home_widget_counts_unanswered_emergencies(client, user_factory, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        actions.send_notification(
            recipient="13900000031",
            template="sos_contact_voice",
            params={"name": "张三"},
            channel=ChannelKind.VOICE,
            purpose=Purpose.SOS,
            priority="emergency",
            idempotency_key="w-1",
            region_id="350404001001",
        )
    client.force_login(user_factory(Role.AGENT))
    body = client.get(reverse("home")).content.decode()
    assert 'data-testid="notifications-widget"' in body
    assert "text-danger fw-bold" in body


def test_health_text_is_hidden_in_lists_and_its_read_is_logged_in_detail(
    client, api_client, user_factory, django_capture_on_commit_callbacks
):
    from auditlog.models import LogEntry

    with django_capture_on_commit_callbacks(execute=True):
        message = actions.send_notification(
            recipient="13900000041",
            template="vitals_s23",
            channel=ChannelKind.SMS,
            purpose=Purpose.VITALS,
            params={"name": "张三", "time": "10:00", "vital": "血氧", "value": "85%"},
            idempotency_key="v-1",
            region_id="350404001001",
        )
    user = user_factory(Role.AGENT)
    client.force_login(user)
    assert "血氧" not in client.get(reverse("notifications:message-list")).content.decode()
    assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists()
    assert "血氧" in client.get(reverse("notifications:message-detail", args=[message.pk])).content.decode()
    api_client.force_authenticate(user)
    listed = api_client.get("/api/v1/notifications/messages/").json()["results"][0]
    assert listed["text"] is None
    assert (
        "血氧"
        in api_client.get(
            f"/api/v1/notifications/messages/{message.pk}/", headers={"X-Purpose": "alarm"}
        ).json()["text"]
    )
    reads = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, object_pk=str(message.pk))
    assert reads.count() == 2 and reads.filter(additional_data__purpose="alarm").exists()
    assert reads.first().additional_data["fields"] == ["health"]
