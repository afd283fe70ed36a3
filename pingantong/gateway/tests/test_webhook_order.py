"""Vendor webhook deliveries out of order and twice: the latest state follows device time, a late
older event is stored as late data, and a vendor event id stored once is never stored again.
Every request is signed (the real view, the real database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pingantong.devices.actions import register_device
from pingantong.devices.models import DeviceEventRecord, DeviceState, PositionRecord, WebhookVendor
from pingantong.gateway.models import VendorDeviceClock, VendorEventSeen
from pingantong.gateway.tests.test_webhook import SECRET, post

pytestmark = pytest.mark.django_db

# Device times relative to now (a controlled clock would be no different: only their order matters).
NOW = datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def reading(minutes_ago: int, *, battery: int, lat: float, event_id: str | None = None, **extra) -> dict:
    item = {
        "device_id": "P-9",
        "kind": "position",
        "time": iso(NOW - timedelta(minutes=minutes_ago)),
        "position": {"latitude": lat, "longitude": 117.63},
        "battery_pct": battery,
        **extra,
    }
    if event_id is not None:
        item["event_id"] = event_id
    return item


@pytest.fixture(autouse=True)
def vendor():
    return WebhookVendor.objects.create(name="acme", secret=SECRET)


@pytest.fixture
def device():
    return register_device(protocol="webhook", identity="acme:P-9", device_type="pendant")


def test_late_older_event_does_not_overwrite_the_newer_latest_state(client, device):
    assert post(client, {"events": [reading(1, battery=40, lat=26.30, event_id="e-new")]}).status_code == 200
    late = post(client, {"events": [reading(30, battery=90, lat=26.10, event_id="e-old")]})
    assert late.status_code == 200 and late.json()["stored"] == 1
    state = DeviceState.objects.get(device=device)
    assert state.battery_pct == 40  # the late report's 90 % is history, not the state
    assert state.latitude == pytest.approx(26.30)
    assert state.position_at == NOW - timedelta(minutes=1)
    old = DeviceEventRecord.objects.get(pk=late.json()["event_ids"][0])
    assert old.archived is True and old.payload["extra"]["vendor_event_id"] == "e-old"
    # The late fix is still kept in the time series at its own time.
    assert PositionRecord.objects.filter(device=device, recorded_at=NOW - timedelta(minutes=30)).exists()
    assert VendorDeviceClock.objects.get(identity="acme:P-9").latest_device_time == NOW - timedelta(minutes=1)


def test_events_of_one_request_are_applied_in_device_time_order(client, device):
    body = {
        "events": [
            reading(2, battery=55, lat=26.20),
            reading(10, battery=80, lat=26.00),  # older, listed last by the vendor
            reading(5, battery=70, lat=26.10),
        ]
    }
    response = post(client, body)
    assert response.status_code == 200 and response.json()["stored"] == 3
    state = DeviceState.objects.get(device=device)
    assert state.battery_pct == 55 and state.latitude == pytest.approx(26.20)
    records = DeviceEventRecord.objects.filter(pk__in=response.json()["event_ids"]).order_by("pk")
    assert [r.device_time for r in records] == [NOW - timedelta(minutes=m) for m in (10, 5, 2)]
    assert [r.archived for r in records] == [False, False, False]  # in order, none is late


def test_same_vendor_event_id_is_ignored_in_another_request(client, device):
    first = post(client, {"events": [reading(3, battery=60, lat=26.2, event_id="evt-1")]})
    assert first.json() == {"stored": 1, "duplicates": 0, "event_ids": first.json()["event_ids"]}
    again = post(client, {"events": [reading(3, battery=60, lat=26.2, event_id="evt-1")]})  # new nonce
    assert again.status_code == 200
    assert again.json()["stored"] == 0 and again.json()["duplicates"] == 1
    assert DeviceEventRecord.objects.filter(device=device).count() == 1
    assert VendorEventSeen.objects.filter(vendor="acme", event_id="evt-1").count() == 1


def test_duplicate_inside_one_request_and_new_ids_beside_it(client, device):
    body = {
        "events": [
            reading(4, battery=60, lat=26.2, event_id="a"),
            reading(4, battery=60, lat=26.2, event_id="a"),
            reading(2, battery=58, lat=26.3, event_id="b"),
        ]
    }
    response = post(client, body)
    assert response.json()["stored"] == 2 and response.json()["duplicates"] == 1
    assert DeviceEventRecord.objects.filter(device=device).count() == 2


def test_same_event_id_from_another_vendor_is_not_a_duplicate(client, device):
    WebhookVendor.objects.create(name="other", secret=SECRET)
    assert post(client, {"events": [reading(3, battery=60, lat=26.2, event_id="x")]}).json()["stored"] == 1
    response = post(
        client, {"events": [reading(3, battery=60, lat=26.2, event_id="x")]}, url="/gateway/webhook/other/"
    )
    assert response.json()["stored"] == 1


def test_late_sos_is_still_an_sos(client, device):
    post(client, {"events": [reading(1, battery=40, lat=26.3)]})
    late_sos = reading(20, battery=90, lat=26.1, event_id="sos-1", kind="alarm", alarms=["sos"])
    response = post(client, {"events": [late_sos]})
    record = DeviceEventRecord.objects.get(pk=response.json()["event_ids"][0])
    assert record.alarms == ["sos"] and record.archived is True
    assert DeviceState.objects.get(device=device).last_life_sign_source == "sos"


def test_malformed_event_id_is_refused_and_spends_nothing(client, device):
    response = post(client, {"events": [reading(1, battery=40, lat=26.3, event_id="")]})
    assert response.status_code == 400 and "events[0].event_id" in response.json()["error"]
    assert not VendorEventSeen.objects.exists() and not DeviceEventRecord.objects.exists()


def test_a_refused_storage_does_not_spend_the_event_id(client, device, monkeypatch):
    from pingantong.gateway import webhook

    def failing_store(frames, node):
        raise RuntimeError("disk full")

    monkeypatch.setattr(webhook, "store_batch", failing_store)
    with pytest.raises(RuntimeError):
        post(client, {"events": [reading(1, battery=40, lat=26.3, event_id="keep")]})
    assert not VendorEventSeen.objects.exists()
    monkeypatch.undo()
    assert post(client, {"events": [reading(1, battery=40, lat=26.3, event_id="keep")]}).json()["stored"] == 1
