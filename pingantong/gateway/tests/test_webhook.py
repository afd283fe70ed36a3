"""Vendor webhook: signed requests are stored before the answer; forged, stale, replayed and
malformed ones are refused and change nothing."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from pingantong.devices.actions import register_device
from pingantong.devices.models import DeviceEventRecord, DeviceState, UnknownDeviceInbox, WebhookVendor
from pingantong.gateway.webhook import WINDOW, sign

pytestmark = pytest.mark.django_db

SECRET = "s3cret-for-tests-only"
URL = "/gateway/webhook/acme/"


@pytest.fixture(autouse=True)
def vendor():
    return WebhookVendor.objects.create(name="acme", secret=SECRET)


def post(
    client,
    body: dict | bytes,
    *,
    secret: str = SECRET,
    ts: int | None = None,
    nonce: str | None = None,
    url: str = URL,
):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    ts_text = str(ts if ts is not None else int(time.time()))
    nonce = nonce or uuid.uuid4().hex
    return client.post(
        url,
        data=raw,
        content_type="application/json",
        HTTP_X_PINGANTONG_TIMESTAMP=ts_text,
        HTTP_X_PINGANTONG_NONCE=nonce,
        HTTP_X_PINGANTONG_SIGNATURE=sign(secret, ts_text, nonce, raw),
    )


SOS = {
    "events": [
        {
            "device_id": "P-1",
            "kind": "alarm",
            "alarms": ["sos"],
            "time": "2026-11-28T10:00:00Z",
            "position": {"latitude": 26.26, "longitude": 117.63},
            "battery_pct": 70,
        }
    ]
}


def test_signed_request_is_stored_before_the_answer_and_updates_the_device(client):
    device = register_device(protocol="webhook", identity="acme:P-1", device_type="pendant")
    response = post(client, SOS)
    assert response.status_code == 200, response.content
    record = DeviceEventRecord.objects.get(pk=response.json()["event_ids"][0])
    assert record.device == device and record.alarms == ["sos"]
    state = DeviceState.objects.get(device=device)
    assert state.battery_pct == 70 and state.last_life_sign_source == "sos"


def test_a_call_for_help_is_stored_as_an_alarm_event_whatever_the_vendor_called_it(client):
    # The rules' priority lane reads alarm rows (kind "alarm", through their partial index).
    register_device(protocol="webhook", identity="acme:P-1", device_type="pendant")
    body = {"events": [{**SOS["events"][0], "kind": "position", "alarms": ["fall"]}]}
    body["events"].append({**SOS["events"][0], "kind": "status", "alarms": ["low_battery"]})
    response = post(client, body)
    assert response.status_code == 200, response.content
    fall, low = (DeviceEventRecord.objects.get(pk=pk) for pk in response.json()["event_ids"])
    assert (fall.kind, fall.alarms) == ("alarm", ["fall"])
    assert (low.kind, low.alarms) == ("status", ["low_battery"])  # a signal keeps its kind


def test_unknown_vendor_device_goes_to_the_inbox(client):
    assert post(client, SOS).status_code == 200
    assert UnknownDeviceInbox.objects.filter(protocol="webhook", identity="acme:P-1").exists()


def test_forged_signature_is_refused(client):
    response = post(client, SOS, secret="not-the-secret")
    assert response.status_code == 401
    assert not DeviceEventRecord.objects.exists()


def test_body_changed_after_signing_is_refused(client):
    raw = json.dumps(SOS).encode()
    ts, nonce = str(int(time.time())), uuid.uuid4().hex
    response = client.post(
        URL,
        data=raw.replace(b"sos", b"low_battery"),
        content_type="application/json",
        HTTP_X_PINGANTONG_TIMESTAMP=ts,
        HTTP_X_PINGANTONG_NONCE=nonce,
        HTTP_X_PINGANTONG_SIGNATURE=sign(SECRET, ts, nonce, raw),
    )
    assert response.status_code == 401
    assert not DeviceEventRecord.objects.exists()


def test_stale_timestamp_is_refused(client):
    response = post(client, SOS, ts=int(time.time()) - WINDOW - 5)
    assert response.status_code == 401 and "window" in response.json()["error"]
    assert not DeviceEventRecord.objects.exists()


def test_replayed_request_is_refused(client):
    nonce = uuid.uuid4().hex
    ts = int(time.time())
    assert post(client, SOS, nonce=nonce, ts=ts).status_code == 200
    again = post(client, SOS, nonce=nonce, ts=ts)
    assert again.status_code == 409
    assert DeviceEventRecord.objects.count() == 1


def test_unknown_or_inactive_vendor_is_refused(client, vendor):
    assert post(client, SOS, url="/gateway/webhook/nobody/").status_code == 404
    vendor.active = False
    vendor.save()
    assert post(client, SOS).status_code == 404


def test_malformed_event_names_the_field_and_stores_nothing(client):
    bad = {"events": [SOS["events"][0], {"device_id": "P-2", "alarms": ["meteor"]}]}
    response = post(client, bad)
    assert response.status_code == 400 and "events[1]" in response.json()["error"]
    assert not DeviceEventRecord.objects.exists()
    assert post(client, b"not json").status_code == 400


def test_get_is_not_allowed(client):
    assert client.get(URL).status_code == 405
