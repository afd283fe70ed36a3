"""S08 location links (signed, expiring, consent-bound, audited) and the contacts' alert
primitives that the alarm centre's cascade uses (S01, S10, S23, S26, S28)."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from pingantong.clients.actions.clients import record_consent
from pingantong.clients.testing import make_client, make_contact
from pingantong.notifications import location
from pingantong.notifications.choices import ChannelKind, MessageStatus, Priority, Purpose
from pingantong.notifications.contacts import notify_contacts, send_to_contact
from pingantong.notifications.models import Message, RecipientPreference

pytestmark = pytest.mark.django_db


def consent(client, granted=True):
    record_consent(client=client, purpose="location_share", granted=granted, method="written", by=None)


def test_no_link_without_the_clients_location_share_consent():
    with pytest.raises(PermissionDenied):
        location.make_share_token(client=make_client())


def test_link_shows_the_latest_position_on_a_map_and_every_view_is_audited(client):
    person = make_client(home_lat=26.26341, home_lon=117.63892)
    consent(person)
    url = location.share_url(client=person, minutes=30)
    response = client.get(url)
    body = response.content.decode()
    assert response.status_code == 200 and "26.26341" in body and "leaflet.js" in body
    client.get(url)
    reads = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, object_pk=str(person.pk))
    assert reads.count() == 2
    assert reads.first().additional_data["fields"] == ["location"]
    assert reads.first().additional_data["purpose"] == "location_share:contact_link"


def test_forged_link_is_refused_clearly(client):
    person = make_client()
    consent(person)
    token = location.make_share_token(client=person)
    forged = token[:-3] + ("abc" if token[-3:] != "abc" else "xyz")
    response = client.get(reverse("notifications:location-share", args=[forged]))
    assert response.status_code == 403 and 'data-reason="forged"' in response.content.decode()
    other = signing.dumps({"c": person.pk, "m": 60}, salt="another-salt")
    assert client.get(reverse("notifications:location-share", args=[other])).status_code == 403


def test_expired_link_is_refused_clearly(client, monkeypatch):
    person = make_client()
    consent(person)
    token = location.make_share_token(client=person, minutes=5)
    real_time = signing.time.time
    monkeypatch.setattr(signing.time, "time", lambda: real_time() + 6 * 60)
    response = client.get(reverse("notifications:location-share", args=[token]))
    assert response.status_code == 410 and 'data-reason="expired"' in response.content.decode()


def test_withdrawn_consent_closes_existing_links(client):
    person = make_client()
    consent(person)
    url = location.share_url(client=person)
    consent(person, granted=False)
    response = client.get(url)
    assert response.status_code == 403 and 'data-reason="consent"' in response.content.decode()
    assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS, object_pk=str(person.pk)).exists()


def test_send_to_contact_requires_ack_and_is_idempotent_per_attempt(django_capture_on_commit_callbacks):
    person = make_client()
    contact = make_contact(person, name="李四")
    params = {"name": person.name, "time": "10:00", "link": "https://x.invalid/s/1"}
    with django_capture_on_commit_callbacks(execute=True):
        first = send_to_contact(
            contact, template="sos_contact", params=params, purpose=Purpose.SOS, related="alarm:7"
        )
        again = send_to_contact(
            contact, template="sos_contact", params=params, purpose=Purpose.SOS, related="alarm:7"
        )
        second_try = send_to_contact(
            contact, template="sos_contact", params=params, purpose=Purpose.SOS, related="alarm:7", attempt=2
        )
    assert first.pk == again.pk != second_try.pk
    first.refresh_from_db()
    assert first.require_ack and first.priority == Priority.EMERGENCY and first.contact == contact
    assert first.client == person and first.related == "alarm:7" and first.recipient_name == "李四"
    assert first.status == MessageStatus.DELIVERED and first.acknowledged_at is None


def test_contact_preferring_voice_or_who_cannot_read_gets_a_call(django_capture_on_commit_callbacks):
    person = make_client()
    by_pref = make_contact(person, preferred_channel="voice")
    cannot_read = make_contact(person)
    RecipientPreference.objects.create(recipient=cannot_read.phone, cannot_read=True)
    with django_capture_on_commit_callbacks(execute=True):
        messages = notify_contacts(
            client=person,
            template="geofence_s10",
            purpose=Purpose.GEOFENCE,
            params={"name": person.name, "time": "09:00", "link": "l"},
            related="alarm:9",
        )
    assert [m.contact_id for m in messages] == [by_pref.pk, cannot_read.pk]
    assert {m.channel for m in messages} == {ChannelKind.VOICE}
    assert Message.objects.filter(related="alarm:9").count() == 2


def test_alarm_params_carry_the_link_only_with_consent():
    from datetime import UTC, datetime

    from pingantong.notifications.contacts import alarm_params

    person = make_client(name="王秀英")
    without = alarm_params(client=person, at=datetime(2026, 11, 28, 2, 5, tzinfo=UTC))
    assert without["time"] == "11月28日10:05" and "/notifications/share/" not in without["link"]
    consent(person)
    with_link = alarm_params(client=person, vital="心率", value="150")
    assert "/notifications/share/" in with_link["link"] and with_link["vital"] == "心率"
