"""Visits (S12, Q2): the distance rule of electronic visit verification, completion with checklist,
notes, photo and the client's confirmation, and missed visits escalating."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from pingantong.care import geo
from pingantong.care.actions import (
    check_in_visit,
    complete_visit,
    escalate_overdue_tasks,
    open_task,
    record_visit_not_found,
)
from pingantong.care.choices import TaskKind, TaskStatus
from pingantong.care.models import LifeSign, Task, Visit

pytestmark = pytest.mark.django_db
HOME = (26.2634, 117.6389)
# About 150 m north and about 350 m north of the home (1e-3 degrees of latitude ≈ 111 m).
NEAR = (26.2634 + 0.00135, 117.6389)
FAR = (26.2634 + 0.00315, 117.6389)


def test_haversine_matches_known_distances():
    assert geo.haversine_m(*HOME, *HOME) == 0
    assert 145 < geo.haversine_m(*HOME, *NEAR) < 155
    # Beijing Tiananmen to Shanghai People's Square: about 1,067 km.
    assert 1_060_000 < geo.haversine_m(39.9087, 116.3975, 31.2304, 121.4737) < 1_075_000


@pytest.fixture
def visit_task(client_factory, now):
    client = client_factory(home_lat=HOME[0], home_lon=HOME[1])
    return open_task(
        kind=TaskKind.VISIT, client=client, due_at=now + dt.timedelta(hours=6), reason="monthly", now=now
    )


def test_check_in_within_the_radius_counts(visit_task, user_factory, now):
    worker = user_factory("field_worker", visit_task.region_id)
    visit = check_in_visit(
        client=visit_task.client,
        by=worker,
        latitude=NEAR[0],
        longitude=NEAR[1],
        accuracy_m=12,
        task=visit_task,
        now=now,
    )
    assert visit.verified and 145 < visit.distance_m < 155 and visit.off_site_reason == ""
    visit_task.refresh_from_db()
    assert visit_task.status == TaskStatus.IN_PROGRESS and visit_task.owner == worker


def test_check_in_beyond_the_radius_without_a_reason_is_refused_and_stores_nothing(
    visit_task, user_factory, now
):
    worker = user_factory("field_worker", visit_task.region_id)
    with pytest.raises(ValidationError) as error:
        check_in_visit(
            client=visit_task.client, by=worker, latitude=FAR[0], longitude=FAR[1], task=visit_task, now=now
        )
    assert "350 m" in str(error.value) or "351 m" in str(error.value)
    assert not Visit.objects.exists()
    visit_task.refresh_from_db()
    assert visit_task.status == TaskStatus.OPEN


def test_check_in_beyond_the_radius_with_a_reason_counts_and_keeps_the_reason(visit_task, user_factory, now):
    worker = user_factory("field_worker", visit_task.region_id)
    visit = check_in_visit(
        client=visit_task.client,
        by=worker,
        latitude=FAR[0],
        longitude=FAR[1],
        reason="Met at the village clinic",
        task=visit_task,
        now=now,
    )
    assert visit.verified and visit.off_site_reason == "Met at the village clinic" and visit.distance_m > 300


def test_the_radius_is_configurable(visit_task, user_factory, now, settings):
    settings.PINGANTONG_CARE_VISIT_CHECKIN_RADIUS_M = 100
    worker = user_factory("field_worker", visit_task.region_id)
    with pytest.raises(ValidationError):
        check_in_visit(client=visit_task.client, by=worker, latitude=NEAR[0], longitude=NEAR[1], now=now)


def test_no_location_fix_needs_a_reason(visit_task, user_factory, now):
    worker = user_factory("field_worker", visit_task.region_id)
    with pytest.raises(ValidationError):
        check_in_visit(client=visit_task.client, by=worker, latitude=None, longitude=None, now=now)
    visit = check_in_visit(
        client=visit_task.client,
        by=worker,
        latitude=None,
        longitude=None,
        reason="GPS unavailable indoors",
        now=now,
    )
    assert visit.distance_m is None and visit.verified


def test_completing_a_visit_closes_the_task_records_a_life_sign_and_follow_up(visit_task, user_factory, now):
    worker = user_factory("field_worker", visit_task.region_id)
    visit = check_in_visit(
        client=visit_task.client, by=worker, latitude=NEAR[0], longitude=NEAR[1], task=visit_task, now=now
    )
    complete_visit(
        visit=visit,
        by=worker,
        checklist={"well": True, "device_ok": True},
        notes="Tidy, cheerful",
        client_confirmed=True,
        client_confirmation="signed",
        needs=["home_repair"],
        now=now + dt.timedelta(minutes=30),
    )
    visit_task.refresh_from_db()
    assert visit_task.status == TaskStatus.DONE and visit_task.outcome == "confirmed_needs_help"
    assert (
        visit_task.notes["checklist"]["well"] is True and visit_task.notes["checklist"]["home_safe"] is False
    )
    assert LifeSign.objects.get().source == "visit"
    assert Task.objects.get(kind=TaskKind.FOLLOW_UP).source_ref == str(visit.pk)


def test_missed_visit_escalates_when_overdue_and_when_not_found(visit_task, user_factory, now):
    moved = escalate_overdue_tasks(now=visit_task.due_at + dt.timedelta(minutes=1))
    assert moved == [visit_task.pk]
    visit_task.refresh_from_db()
    assert (visit_task.status, visit_task.escalation_level, visit_task.team) == ("escalated", 1, "supervisor")
    worker = user_factory("field_worker", visit_task.region_id)
    task = record_visit_not_found(
        task=visit_task, by=worker, reason="door locked", now=now + dt.timedelta(hours=7)
    )
    assert task.escalation_level == 2


def test_visit_page_check_in_and_complete_with_photo(visit_task, user_factory, client):
    worker = user_factory("field_worker", visit_task.region_id)
    client.force_login(worker)
    url = reverse("care:visit", args=[visit_task.pk])
    assert client.get(url).status_code == 200
    far = client.post(url, {"step": "checkin", "latitude": FAR[0], "longitude": FAR[1]}, follow=True)
    assert "record a reason" in far.content.decode() and not Visit.objects.exists()
    client.post(url, {"step": "checkin", "latitude": NEAR[0], "longitude": NEAR[1], "accuracy": 8})
    photo = SimpleUploadedFile("door.jpg", b"\xff\xd8\xff\xe0fakejpeg", content_type="image/jpeg")
    response = client.post(
        url,
        {
            "step": "complete",
            "check_well": "on",
            "notes": "ok",
            "client_confirmed": "on",
            "client_confirmation": "spoken",
            "photo": photo,
        },
    )
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert visit.status == "completed" and visit.photos.count() == 1 and visit.client_confirmed


def test_visits_today_lists_the_workers_visits_on_the_map(visit_task, user_factory, client):
    client.force_login(user_factory("field_worker", visit_task.region_id))
    response = client.get(reverse("care:visits-today"))
    assert [t.pk for t in response.context["object_list"]] == [visit_task.pk]
    assert response.context["points"][0]["lat"] == HOME[0]


def test_api_check_in_applies_the_distance_rule(visit_task, user_factory, api_client):
    api_client.force_authenticate(user_factory("field_worker", visit_task.region_id))
    bad = api_client.post(
        reverse("care-visit-checkin"),
        {"task": visit_task.pk, "latitude": FAR[0], "longitude": FAR[1]},
        format="json",
    )
    assert bad.status_code == 400 and "reason" in bad.json()
    ok = api_client.post(
        reverse("care-visit-checkin"),
        {"task": visit_task.pk, "latitude": NEAR[0], "longitude": NEAR[1]},
        format="json",
    )
    assert ok.status_code == 201 and ok.json()["verified"] is True
