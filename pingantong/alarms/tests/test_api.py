"""The public contract `GET /api/v1/alarms/?status=open`, and claim / step / close through the API."""

from __future__ import annotations

import pytest

from pingantong.alarms import actions

pytestmark = pytest.mark.django_db

CONTRACT = {"id", "alarm_type", "priority", "status", "device_id", "client", "raised_at"}


def test_open_alarms_list_has_contract_fields_in_priority_order(
    api_client, agent, elder, django_assert_max_num_queries
):
    low = actions.raise_alarm(alarm_type="removed", client=elder, device_ident="111")
    sos = actions.raise_alarm(alarm_type="sos", device_ident="4700186508")
    closed = actions.raise_alarm(alarm_type="fall", device_ident="222")
    actions.close_alarm(alarm_id=closed.pk, user=agent, outcome="false_alarm")
    for n in range(5):
        actions.raise_alarm(alarm_type="water_leak", device_ident=f"w{n}")
    api_client.force_authenticate(agent)
    with django_assert_max_num_queries(6):
        response = api_client.get("/api/v1/alarms/?status=open")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert set(rows[0]) >= CONTRACT
    assert rows[0]["id"] == sos.pk and rows[0]["device_id"] == "4700186508" and rows[0]["alarm_type"] == "sos"
    assert rows[0]["client"] is None and rows[0]["from_unbound_device"] is True
    assert rows[-1]["id"] == low.pk and rows[-1]["client"] == elder.pk
    assert closed.pk not in {r["id"] for r in rows}
    assert all(r["status"] == "open" for r in rows)


def test_escalated_alarm_stays_in_open_list(api_client, agent, elder):
    from datetime import timedelta

    from django.utils import timezone

    alarm = actions.raise_alarm(alarm_type="sos", client=elder, at=timezone.now() - timedelta(minutes=2))
    actions.escalate_unclaimed()
    api_client.force_authenticate(agent)
    [row] = api_client.get("/api/v1/alarms/?status=open").json()["results"]
    assert row["id"] == alarm.pk and row["escalated"] is True and row["status"] == "open"


def test_other_town_agent_does_not_see_the_alarm(api_client, elder, user_factory):
    actions.raise_alarm(alarm_type="sos", client=elder)
    api_client.force_authenticate(user_factory("agent", "350404002000"))
    assert api_client.get("/api/v1/alarms/?status=open").json()["results"] == []


def test_claim_step_close_through_api(api_client, agent, agent2, elder):
    alarm = actions.raise_alarm(alarm_type="sos", client=elder)
    api_client.force_authenticate(agent)
    assert api_client.post(f"/api/v1/alarms/{alarm.pk}/claim/").json()["status"] == "claimed"
    api_client.force_authenticate(agent2)
    conflict = api_client.post(f"/api/v1/alarms/{alarm.pk}/claim/")
    assert conflict.status_code == 409 and "坐席小李" in conflict.json()["detail"]
    api_client.force_authenticate(agent)
    step = api_client.post(
        f"/api/v1/alarms/{alarm.pk}/step/", {"kind": "called_client", "result": "answered"}
    )
    assert step.status_code == 201 and step.json()["steps"][-1]["kind"] == "called_client"
    bad = api_client.post(f"/api/v1/alarms/{alarm.pk}/close/", {"outcome": "resolved_by_phone"})
    assert bad.status_code == 400 and "note" in bad.json()
    done = api_client.post(
        f"/api/v1/alarms/{alarm.pk}/close/", {"outcome": "resolved_by_phone", "note": "she is fine"}
    )
    assert done.status_code == 200 and done.json()["status"] == "closed"
    kinds = [s["kind"] for s in api_client.get(f"/api/v1/alarms/{alarm.pk}/").json()["steps"]]
    assert kinds[0] == "raised" and "claimed" in kinds and kinds[-1] == "closed"


def test_kpis_count_answered_within_60_and_180_seconds(api_client, supervisor, agent, elder):
    from datetime import timedelta

    from django.utils import timezone

    from pingantong.alarms.models import Alarm

    now = timezone.now()
    fast = actions.raise_alarm(alarm_type="sos", client=elder, at=now - timedelta(minutes=10))
    slow = actions.raise_alarm(alarm_type="sos", device_ident="x", at=now - timedelta(minutes=10))
    late = actions.raise_alarm(alarm_type="fall", device_ident="y", at=now - timedelta(minutes=10))
    actions.raise_alarm(alarm_type="fall", device_ident="z")  # young and unclaimed: not judged yet
    Alarm.objects.filter(pk=fast.pk).update(
        status="claimed", claimed_by=agent, claimed_at=fast.raised_at + timedelta(seconds=20)
    )
    Alarm.objects.filter(pk=slow.pk).update(
        status="claimed", claimed_by=agent, claimed_at=slow.raised_at + timedelta(seconds=100)
    )
    api_client.force_authenticate(supervisor)
    k = api_client.get("/api/v1/alarms/kpis/").json()
    assert k["month"]["within_60"] == 1 and k["month"]["within_180"] == 2
    assert k["month"]["pct_60"] == pytest.approx(33.3) and k["month"]["pct_180"] == pytest.approx(66.7)
    assert k["unclaimed_now"] == 2 and k["open_by_age"]["lt60"] == 1 and k["open_by_age"]["lt900"] == 3
    assert k["per_agent"][0]["claimed"] == 2
    assert late.pk


def test_signals_are_listed_apart_from_alarms(api_client, agent, elder):
    actions.record_signal(
        signal_type="low_battery", device_ident="4700186508", client=elder, data={"battery_pct": 9}
    )
    api_client.force_authenticate(agent)
    [row] = api_client.get("/api/v1/alarm-signals/?signal_type=low_battery").json()["results"]
    assert row["device_id"] == "4700186508" and row["data"]["battery_pct"] == 9
    assert api_client.get("/api/v1/alarms/?status=open").json()["results"] == []


def test_reading_an_alarm_with_a_position_is_audit_logged(api_client, agent, elder):
    from auditlog.models import LogEntry

    alarm = actions.raise_alarm(alarm_type="sos", client=elder, latitude=26.26, longitude=117.63)
    api_client.force_authenticate(agent)
    assert api_client.get(f"/api/v1/alarms/{alarm.pk}/").json()["latitude"] == 26.26
    entry = LogEntry.objects.get(action=LogEntry.Action.ACCESS, object_pk=str(alarm.pk))
    assert (
        entry.additional_data["fields"] == ["location"]
        and entry.additional_data["purpose"] == "alarm handling"
    )
