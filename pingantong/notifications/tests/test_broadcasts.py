"""Broadcasts (S13–S15, Q3): CAP weather warnings → day-before reminder drafts, fraud alerts by
webhook, approval before anything is sent, batches in the worker, progress and report."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from pingantong.accounts.choices import Role
from pingantong.clients.choices import ClientStatus
from pingantong.clients.testing import make_client, make_contact
from pingantong.notifications import broadcasts
from pingantong.notifications.cap import CapError, parse_cap
from pingantong.notifications.channels.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from pingantong.notifications.choices import BroadcastKind, BroadcastSource, BroadcastStatus, MessageStatus
from pingantong.notifications.models import Broadcast, Message, WeatherWarning

FIXTURES = Path(__file__).parent / "fixtures"
RAINSTORM = (FIXTURES / "sanming_rainstorm_orange.xml").read_bytes()
TYPHOON_YELLOW = (FIXTURES / "sanming_typhoon_yellow_city.xml").read_bytes()
NOW = datetime(2026, 11, 28, 0, 20, tzinfo=UTC)
BEIJING = ZoneInfo("Asia/Shanghai")


def test_cap_fixture_parses_with_gb2260_area_codes():
    alert = parse_cap(RAINSTORM)
    assert alert.identifier == "35040041600000_20261128081500" and alert.event == "暴雨"
    assert alert.severity == "Severe" and alert.is_extreme and alert.geocodes == ["350404"]
    assert alert.onset == datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("xml", "reason"),
    [
        (b"", "empty"),
        (b"<alert>", "not well-formed"),
        (b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.1'/>", "expected <alert>"),
        (
            RAINSTORM.replace(b"<identifier>35040041600000_20261128081500</identifier>", b""),
            "<identifier> is missing",
        ),
        (RAINSTORM.replace(b"<severity>Severe</severity>", b"<severity>Big</severity>"), "<severity> 'Big'"),
        (RAINSTORM.replace(b"<value>350404</value>", b"<value>sanyuan</value>"), "not a GB/T 2260 code"),
        (RAINSTORM.replace(b"+08:00</onset>", b"</onset>"), "no time zone"),
        (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xx">]><alert>&x;</alert>', "forbidden XML"),
    ],
)
def test_malformed_cap_is_rejected_with_the_reason(xml, reason):
    with pytest.raises(CapError, match=reason):
        parse_cap(xml)


@pytest.fixture
def sanyuan_clients(db):
    inside = [make_client(region="350404001001"), make_client(region="350404002001")]
    make_contact(inside[0])
    outside = make_client(region="350400000000")  # a client registered at city level: not in 三元区
    ended = make_client(region="350404001001", status=ClientStatus.TERMINATED)
    return inside, outside, ended


@pytest.mark.django_db
def test_extreme_warning_drafts_the_day_before_reminder_for_its_area_clients(
    sanyuan_clients, huey, user_factory, django_capture_on_commit_callbacks
):
    inside, _outside, _ended = sanyuan_clients
    # The fixture's storm, moved to the evening after tomorrow so that the reminder lies ahead.
    onset = (
        (timezone.now() + timedelta(days=2))
        .astimezone(BEIJING)
        .replace(hour=20, minute=0, second=0, microsecond=0)
    )
    xml = RAINSTORM.replace(b"2026-11-29T20:00:00+08:00", onset.isoformat().encode())
    warning, drafts = broadcasts.import_weather_warning(data=xml)
    assert warning.geocodes == ["350404"] and len(drafts) == 1
    draft = drafts[0]
    assert draft.status == BroadcastStatus.DRAFT and draft.region_id == "350404000000"
    assert draft.send_after == onset - timedelta(days=1)  # 20:00 the evening before onset
    assert Message.objects.count() == 0  # nothing goes out before review
    with django_capture_on_commit_callbacks(execute=True):
        broadcasts.approve_broadcast(broadcast=draft, user=user_factory(Role.SUPERVISOR))
    draft.refresh_from_db()
    assert draft.total == 2  # the two active clients of 三元区, not the city-level or terminated one
    [scheduled] = huey.scheduled()
    assert scheduled.eta.replace(tzinfo=UTC) == draft.send_after
    huey.execute(scheduled, timestamp=scheduled.eta)
    texts = {m.recipient: m.text for m in Message.objects.all()}
    assert set(texts) == {c.phone for c in inside}
    assert texts[inside[0].phone] == (
        f"【平安通】天气提醒：三元区预计{onset:%m月%d日}20时起有暴雨，请减少外出，远离河道和山体边坡。需要帮助请拨打平安通热线。"
    )
    draft.refresh_from_db()
    assert draft.status == BroadcastStatus.DONE and draft.processed == 2


@pytest.mark.django_db
def test_a_moderate_warning_is_recorded_without_a_reminder(sanyuan_clients):
    warning, drafts = broadcasts.import_weather_warning(data=TYPHOON_YELLOW, now=NOW)
    assert drafts == [] and warning.region_id == "350400000000"


@pytest.mark.django_db
def test_the_same_warning_twice_drafts_once(sanyuan_clients):
    broadcasts.import_weather_warning(data=RAINSTORM, now=NOW)
    _, again = broadcasts.import_weather_warning(data=RAINSTORM, now=NOW)
    assert again == [] and Broadcast.objects.count() == 1 and WeatherWarning.objects.count() == 1


@pytest.mark.django_db
def test_an_agent_cannot_approve_and_a_supervisor_elsewhere_cannot_either(sanyuan_clients, user_factory):
    _, [draft] = broadcasts.import_weather_warning(data=RAINSTORM, now=NOW)
    with pytest.raises(PermissionDenied):
        broadcasts.approve_broadcast(broadcast=draft, user=user_factory(Role.AGENT))
    with pytest.raises(PermissionDenied):
        broadcasts.approve_broadcast(broadcast=draft, user=user_factory(Role.SUPERVISOR, "350404001000"))
    assert Message.objects.count() == 0


def _signed_post(client, payload, secret="fraud-secret", tamper=False):
    body = json.dumps(payload, ensure_ascii=False).encode()
    ts = str(int(time.time()))
    signature = sign(secret, ts, body)
    return client.post(
        reverse("notifications:hook-fraud"),
        data=body + (b" " if tamper else b""),
        content_type="application/json",
        headers={TIMESTAMP_HEADER: ts, SIGNATURE_HEADER: signature},
    )


@pytest.mark.django_db
def test_fraud_webhook_creates_a_draft_for_clients_and_contacts_then_sends_after_approval(
    sanyuan_clients, client, monkeypatch, user_factory, django_capture_on_commit_callbacks
):
    monkeypatch.setenv("PINGANTONG_FRAUD_WEBHOOK_SECRET", "fraud-secret")
    payload = {"id": "afc-2026-1128-01", "region_code": "350404", "summary": "冒充医保局退费的诈骗电话"}
    response = _signed_post(client, payload)
    assert response.status_code == 202
    draft = Broadcast.objects.get(pk=response.json()["broadcast"])
    assert (
        draft.source == BroadcastSource.WEBHOOK
        and draft.kind == BroadcastKind.FRAUD
        and draft.include_contacts
    )
    assert _signed_post(client, payload).json()["broadcast"] == draft.pk  # resent alert: same draft
    with django_capture_on_commit_callbacks(execute=True):
        broadcasts.approve_broadcast(broadcast=draft, user=user_factory(Role.DISTRICT))
    inside = sanyuan_clients[0]
    recipients = set(Message.objects.values_list("recipient", flat=True))
    assert recipients == {inside[0].phone, inside[1].phone, inside[0].contacts.get().phone}
    assert all(m.status == MessageStatus.DELIVERED for m in Message.objects.all())  # development channel
    # The batch job running again sends nothing twice.
    broadcasts.send_broadcast_batch(broadcast_id=draft.pk, offset=0)
    assert Message.objects.count() == 3


@pytest.mark.django_db
def test_fraud_webhook_refuses_a_bad_signature(client, monkeypatch):
    monkeypatch.setenv("PINGANTONG_FRAUD_WEBHOOK_SECRET", "fraud-secret")
    response = _signed_post(client, {"id": "x", "region_code": "350404", "summary": "s"}, tamper=True)
    assert response.status_code == 401 and response.json()["error"] == "signature does not match"
    assert Broadcast.objects.count() == 0


@pytest.mark.django_db
def test_policy_notice_from_the_page_then_approved_shows_progress_and_report(
    sanyuan_clients, client, user_factory, password, django_capture_on_commit_callbacks
):
    user = user_factory(Role.DISTRICT)
    client.force_login(user)
    response = client.post(
        reverse("notifications:broadcast-create"),
        {
            "kind": "policy",
            "title": "高龄津贴提标",
            "region": "350404000000",
            "text": "从12月起，80岁以上老人每月多发50元，无需申请。",
            "categories": ["living_alone"],
        },
    )
    broadcast = Broadcast.objects.get()
    assert response.status_code == 302 and broadcast.status == BroadcastStatus.DRAFT
    page = client.get(reverse("notifications:broadcast-detail", args=[broadcast.pk]))
    assert "80岁以上老人每月多发50元" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("notifications:broadcast-approve", args=[broadcast.pk]))
    progress = client.get(reverse("notifications:broadcast-progress", args=[broadcast.pk])).content.decode()
    assert "2/2" in progress and "hx-trigger" not in progress  # done: polling stops


@pytest.mark.django_db
def test_cap_upload_page_rejects_malformed_xml_with_the_reason(client, user_factory, password):
    user = user_factory(Role.AGENT)
    client.force_login(user)
    response = client.post(reverse("notifications:broadcast-cap"), {"xml": "<alert>"})
    assert response.status_code == 400 and "not well-formed" in response.content.decode()
