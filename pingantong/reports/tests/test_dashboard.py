"""Dashboard (issue 9 item 4): live counts match the seeded data, village users are refused, the
query count does not grow with the data, and the aggregates are cached."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pingantong.accounts.choices import Role
from pingantong.alarms.models import Alarm
from pingantong.care.models import Task
from pingantong.clients.choices import ClientStatus
from pingantong.clients.testing import OTHER_VILLAGE, VILLAGE, make_client
from pingantong.devices.models import Device, DeviceState
from pingantong.testing.users import make_user


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def seed() -> None:
    """3 active clients (2 in 江滨, 1 in 列西), 1 terminated; 1 open + 1 closed alarm; 1 overdue +
    1 future task; a watch silent for 3 h (threshold 2 h) and one heard 10 minutes ago."""
    now = timezone.now()
    a = make_client(name="甲", home_lat=26.26, home_lon=117.63)
    make_client(name="乙", home_lat=26.28, home_lon=117.65)
    c = make_client(name="丙", region=OTHER_VILLAGE, home_lat=26.24, home_lon=117.60)
    make_client(name="丁", status=ClientStatus.TERMINATED)
    Alarm.objects.create(alarm_type="sos", client=a, region_id=VILLAGE, raised_at=now)
    Alarm.objects.create(
        alarm_type="fall",
        client=c,
        region_id=OTHER_VILLAGE,
        status="closed",
        closed_at=now,
        outcome="false_alarm",
    )
    for due in (now - dt.timedelta(hours=1), now + dt.timedelta(hours=5)):
        Task.objects.create(
            kind="confirmation", client=a, region_id=VILLAGE, due_at=due, created_at=now, updated_at=now
        )
    for identity, seen in (
        ("86000001", now - dt.timedelta(hours=3)),
        ("86000002", now - dt.timedelta(minutes=10)),
    ):
        device = Device.objects.create(
            protocol="watch", identity=identity, device_type_id="watch", client=a, region_id=VILLAGE
        )
        DeviceState.objects.update_or_create(device=device, defaults={"last_device_seen_at": seen})


def test_district_dashboard_counts_match_the_seeded_data(client, db):
    seed()
    client.force_login(make_user(Role.DISTRICT))
    response = client.get("/reports/dashboard/")
    assert response.status_code == 200
    figures = response.context["figures"]
    assert figures["active_clients"] == 3  # the terminated client is not counted
    assert figures["open_alarms"] == 1
    assert figures["overdue_tasks"] == 1
    assert figures["silent_devices"] == 1
    towns = {t["code"]: t for t in figures["towns"]}
    assert towns["350404001000"]["clients"] == 2 and towns["350404001000"]["open_alarms"] == 1
    assert towns["350404002000"]["clients"] == 1 and towns["350404002000"]["open_alarms"] == 0
    points = {p["count"]: p for p in figures["points"]}
    assert points[2]["lat"] == pytest.approx(26.27) and points[2]["lon"] == pytest.approx(117.64)
    assert len(figures["trend"]) == timezone.localdate().month
    assert b'data-figure="active_clients">3<' in response.content
    assert b"echarts.min.js" in response.content and b"leaflet.js" in response.content


def test_agency_admin_sees_the_dashboard_and_village_user_is_refused(client, db):
    seed()
    client.force_login(make_user(Role.AGENCY_ADMIN))
    assert client.get("/reports/dashboard/").status_code == 200
    client.force_login(make_user(Role.VILLAGE, VILLAGE))
    assert client.get("/reports/dashboard/").status_code == 403


def _queries(client) -> int:
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/reports/dashboard/").status_code == 200
    return len(queries)


def test_dashboard_queries_do_not_grow_with_clients_and_are_cached(client, db):
    seed()
    client.force_login(make_user(Role.DISTRICT))
    few = _queries(client)
    for i in range(30):
        make_client(name=f"多{i}", region=OTHER_VILLAGE, home_lat=26.2, home_lon=117.6)
    assert _queries(client) == few
    # Bounded by the months of the trend (about 10 queries each) and device types, not by rows.
    assert few <= 12 * 10 + 30
    Alarm.objects.create(alarm_type="sos", region_id=VILLAGE, raised_at=timezone.now())
    with CaptureQueriesContext(connection) as cached:
        response = client.get("/reports/dashboard/")
    assert response.context["figures"]["open_alarms"] == 1  # served from the 60 s cache
    assert len(cached) < 10
    cache.clear()
    response = client.get("/reports/dashboard/")
    assert response.context["figures"]["open_alarms"] == 2
