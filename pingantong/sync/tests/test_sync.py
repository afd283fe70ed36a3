"""The provincial sync against a local server that behaves like the platform (I2)."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import pytest
from django.utils import timezone

from pingantong.accounts.choices import Role
from pingantong.care.models import CareCall
from pingantong.clients.actions.clients import record_consent
from pingantong.clients.testing import VILLAGE, make_client
from pingantong.sync.adapter import ProvincialAdapter
from pingantong.sync.delivery import deliver_pending, reconcile, requeue
from pingantong.sync.models import OutboxEvent, OutboxStatus
from pingantong.testing.users import DISTRICT, make_user

from .platform_server import APP_ID, SECRET, PlatformServer


@pytest.fixture
def platform():
    with PlatformServer() as server:
        yield server


@pytest.fixture
def adapter(platform):
    return ProvincialAdapter(platform.url, APP_ID, SECRET, timeout_s=5)


def consenting_client(**fields):
    client = make_client(**fields)
    record_consent(client=client, purpose="provincial_sync", granted=True, method="written", by=make_user())
    client.save()  # a change after consent: reported
    return client


def test_changes_reach_the_platform_signed_and_acknowledged(db, platform, adapter):
    client = consenting_client(name="陈桂兰")
    CareCall.objects.create(client=client, region_id=VILLAGE, at=timezone.now(), result="answered")
    assert OutboxEvent.objects.filter(status=OutboxStatus.PENDING).count() == 2
    result = deliver_pending(adapter=adapter)
    assert result["sent"] == 2
    stored = [r["record"] for r in platform.state.records.values()]
    assert {r["type"] for r in stored} == {"client.updated", "care.call"}
    client_record = next(r for r in stored if r["type"] == "client.updated")
    assert client_record["data"]["name"] == "陈桂兰"
    assert client.id_number_hmac == client_record["data"]["id_number_hash"]
    assert "*" in client_record["data"]["id_number_masked"]  # never the ID number in clear
    assert all(e.remote_id.startswith("FJ") for e in OutboxEvent.objects.all())


def test_no_consent_no_event_and_withdrawal_stops_events(db):
    make_client(name="无同意")
    assert not OutboxEvent.objects.exists()
    client = consenting_client()
    before = OutboxEvent.objects.count()
    record_consent(client=client, purpose="provincial_sync", granted=False, method="written", by=make_user())
    client.save()
    assert OutboxEvent.objects.count() == before


def test_outage_keeps_order_backs_off_and_catches_up(db, platform, adapter):
    first = consenting_client(name="一")
    consenting_client(name="二")
    platform.state.outage = True
    now = timezone.now()
    assert deliver_pending(adapter=adapter, now=now)["failed"] == 1  # stops at the first failure
    waiting = OutboxEvent.objects.get(object_id=str(first.pk))
    assert waiting.status == OutboxStatus.PENDING and waiting.attempts == 1
    assert waiting.next_attempt_at == now + dt.timedelta(seconds=30)
    assert deliver_pending(adapter=adapter, now=now + dt.timedelta(seconds=10))["sent"] == 0  # not due yet
    platform.state.outage = False
    assert deliver_pending(adapter=adapter, now=now + dt.timedelta(seconds=31))["sent"] == 2
    names = [r["record"]["data"]["name"] for r in platform.state.records.values()]
    assert names == ["一", "二"]  # order kept


def test_duplicate_delivery_is_ignored_by_idempotency_key(db, platform, adapter):
    consenting_client()
    deliver_pending(adapter=adapter)
    event = OutboxEvent.objects.get()
    requeue(event)
    deliver_pending(adapter=adapter)
    assert len(platform.state.records) == 1 and platform.state.duplicates == 1


def test_bad_credentials_go_to_the_dead_letters_not_retried(db, platform):
    consenting_client()
    wrong = ProvincialAdapter(platform.url, APP_ID, "wrong-secret", timeout_s=5)
    assert deliver_pending(adapter=wrong)["dead"] == 1
    event = OutboxEvent.objects.get()
    assert event.status == OutboxStatus.DEAD and "401" in event.last_error


def test_reconciliation_finds_a_missing_record_and_requeues_it(db, platform, adapter):
    consenting_client(name="甲")
    consenting_client(name="乙")
    deliver_pending(adapter=adapter)
    lost_key = next(iter(platform.state.records))
    del platform.state.records[lost_key]
    report = reconcile(day=timezone.localdate(), region_code=DISTRICT, adapter=adapter)
    assert (report.delivered, report.acknowledged, report.missing_remote) == (2, 1, [lost_key])
    assert OutboxEvent.objects.get(idempotency_key=lost_key).status == OutboxStatus.PENDING
    deliver_pending(adapter=adapter)
    assert lost_key in platform.state.records


def test_handover_zip_has_manifest_and_masked_clients(client, db):
    make_client(name="交接老人")
    client.force_login(make_user(Role.DISTRICT))
    response = client.get("/sync/handover/")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["format"] == "pat-handover.v1" and manifest["counts"]["clients"] >= 1
    rows = [json.loads(line) for line in archive.read("clients.jsonl").decode().splitlines()]
    row = next(r for r in rows if r["name"] == "交接老人")
    assert "*" in row["id_number_masked"] and "id_number" not in row


def test_handover_refused_to_an_agent(client, db):
    client.force_login(make_user(Role.AGENT))
    assert client.get("/sync/handover/").status_code == 403
