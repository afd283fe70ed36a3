"""The accounts API: /users/me/, the seat roster and role assignments."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from pingantong.accounts.choices import Role
from pingantong.accounts.models import Shift
from pingantong.accounts.tests.factories import make_shift_in, shift_payload
from pingantong.testing.regions import DISTRICT, TOWN_A, TOWN_B, ensure_regions
from pingantong.testing.users import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _regions():
    ensure_regions()


def test_me_returns_roles_and_regions(api_client):
    user = make_user(Role.TOWNSHIP, TOWN_A, display_name="王芳")
    from pingantong.accounts.models import RoleAssignment

    RoleAssignment.objects.create(user=user, role=Role.AUDITOR, region_id=DISTRICT)
    api_client.force_authenticate(user)
    data = api_client.get("/api/v1/users/me/").json()
    assert data["username"] == user.username
    assert data["display_name"] == "王芳"
    assert {(r["role"], r["region"]) for r in data["roles"]} == {
        (Role.TOWNSHIP, TOWN_A),
        (Role.AUDITOR, DISTRICT),
    }
    assert {r["region_name"] for r in data["roles"]} == {"列东街道", "三元区"}


def test_me_needs_authentication(api_client):
    assert api_client.get("/api/v1/users/me/").status_code in (401, 403)


def test_shift_list_query_count_does_not_grow_with_rows(api_client, django_assert_max_num_queries):
    for _ in range(15):
        make_shift_in(TOWN_A)
    api_client.force_authenticate(make_user(Role.SUPERVISOR, DISTRICT))
    with django_assert_max_num_queries(6):
        response = api_client.get("/api/v1/shifts/")
    assert response.json()["count"] == 15


def test_moving_a_shift_into_the_sibling_town_is_refused(api_client):
    supervisor = make_user(Role.SUPERVISOR, TOWN_A)
    shift = make_shift_in(TOWN_A)
    from pingantong.accounts.models import RoleAssignment

    # The agent works in both towns, so only the region restriction can refuse the move.
    RoleAssignment.objects.create(user=shift.user, role=Role.AGENT, region_id=TOWN_B)
    api_client.force_authenticate(supervisor)
    response = api_client.patch(f"/api/v1/shifts/{shift.pk}/", {"region": TOWN_B}, format="json")
    assert response.status_code == 403
    shift.refresh_from_db()
    assert shift.region_id == TOWN_A


def test_supervisor_schedules_a_shift_in_own_town(api_client):
    api_client.force_authenticate(make_user(Role.SUPERVISOR, TOWN_A))
    response = api_client.post("/api/v1/shifts/", shift_payload(TOWN_A), format="json")
    assert response.status_code == 201, response.content
    assert Shift.objects.get(pk=response.json()["id"]).region_id == TOWN_A


def test_shift_that_ends_before_it_starts_names_the_field(api_client):
    api_client.force_authenticate(make_user(Role.SUPERVISOR, TOWN_A))
    payload = shift_payload(TOWN_A)
    payload["ends_at"] = payload["starts_at"]
    response = api_client.post("/api/v1/shifts/", payload, format="json")
    assert response.status_code == 400
    assert "ends_at" in response.json()
    assert not Shift.objects.exists()


def test_shift_for_someone_without_an_on_duty_role_is_refused(api_client):
    api_client.force_authenticate(make_user(Role.SUPERVISOR, TOWN_A))
    payload = shift_payload(TOWN_A)
    payload["user"] = make_user(Role.AUDITOR, TOWN_A).pk
    response = api_client.post("/api/v1/shifts/", payload, format="json")
    assert response.status_code == 400
    assert "user" in response.json()


def test_overlapping_shifts_of_one_person_are_refused(api_client):
    shift = make_shift_in(TOWN_A)
    api_client.force_authenticate(make_user(Role.SUPERVISOR, TOWN_A))
    start = shift.starts_at + timedelta(hours=2)
    response = api_client.post(
        "/api/v1/shifts/",
        {
            "user": shift.user_id,
            "region": TOWN_A,
            "seat": "3号坐席",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=4)).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 400
    assert "starts_at" in response.json()


def test_role_assignments_api_lists_only_own_regions(api_client):
    admin = make_user(Role.AGENCY_ADMIN, TOWN_A)
    colleague = make_user(Role.AGENT, TOWN_A)
    stranger = make_user(Role.AGENT, TOWN_B)
    api_client.force_authenticate(admin)
    names = {row["username"] for row in api_client.get("/api/v1/role-assignments/").json()["results"]}
    assert colleague.username in names and admin.username in names
    assert stranger.username not in names


def test_on_duty_selector_returns_current_shifts_only():
    from pingantong.accounts.selectors import on_duty_now

    now_shift = make_shift_in(TOWN_A)
    later = make_shift_in(TOWN_A)
    later.starts_at = timezone.now() + timedelta(days=2)
    later.ends_at = later.starts_at + timedelta(hours=8)
    later.save()
    viewer = make_user(Role.DISTRICT, DISTRICT)
    assert list(on_duty_now(viewer)) == [now_shift]
