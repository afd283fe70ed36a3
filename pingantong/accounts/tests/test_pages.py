"""Account pages: my account and password change (policy enforced), staff roles, the roster."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pingantong.accounts import actions
from pingantong.accounts.choices import Role
from pingantong.accounts.models import RoleAssignment
from pingantong.accounts.tests.factories import make_shift_in
from pingantong.testing.regions import DISTRICT, TOWN_A, TOWN_B, ensure_regions
from pingantong.testing.users import PASSWORD, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _regions():
    ensure_regions()


def test_my_account_shows_my_roles_and_saves_details(client):
    user = make_user(Role.AGENT, TOWN_A)
    client.force_login(user)
    page = client.get(reverse("accounts:me"))
    assert "列东街道" in page.content.decode()
    response = client.post(
        reverse("accounts:me"), {"display_name": "李明", "email": "", "phone": "13800138000"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.display_name == "李明"


def test_password_change_enforces_the_policy(client):
    user = make_user(Role.AGENT, TOWN_A)
    client.force_login(user)
    url = reverse("accounts:password-change")
    weak = client.post(
        url, {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"}
    )
    assert weak.status_code == 200
    assert weak.context["form"].errors["new_password2"]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)

    good = "Quiet-River-Lantern-7"
    ok = client.post(url, {"old_password": PASSWORD, "new_password1": good, "new_password2": good})
    assert ok.status_code == 302
    user.refresh_from_db()
    assert user.check_password(good)


def test_password_validators_reject_short_common_numeric_and_similar():
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    user = make_user(username="zhangwei2024")
    for bad in ["Ab1!short", "password1234", "1234567890123", "zhangwei2024"]:
        with pytest.raises(ValidationError):
            validate_password(bad, user)
    validate_password("Quiet-River-Lantern-7", user)


def test_staff_roles_page_lists_only_users_of_my_regions(client):
    admin = make_user(Role.AGENCY_ADMIN, TOWN_A)
    mine = make_user(Role.AGENT, TOWN_A, username="mine")
    theirs = make_user(Role.AGENT, TOWN_B, username="theirs")
    client.force_login(admin)
    page = client.get(reverse("accounts:staff-roles"))
    shown = {a.user.username for a in page.context["page"]}
    assert mine.username in shown and theirs.username not in shown


def test_staff_roles_page_is_refused_to_agents(client):
    client.force_login(make_user(Role.AGENT, TOWN_A))
    assert client.get(reverse("accounts:staff-roles")).status_code == 403


def test_agency_admin_grants_agency_roles_in_own_region_only(client):
    admin = make_user(Role.AGENCY_ADMIN, TOWN_A)
    newcomer = make_user(username="newcomer")
    client.force_login(admin)
    url = reverse("accounts:staff-roles")
    ok = client.post(url, {"username": "newcomer", "role": Role.AGENT, "region": TOWN_A})
    assert ok.status_code == 302
    assert RoleAssignment.objects.filter(user=newcomer, role=Role.AGENT, region_id=TOWN_A).exists()

    sibling = client.post(url, {"username": "newcomer", "role": Role.AGENT, "region": TOWN_B})
    assert sibling.status_code == 200 and sibling.context["form"].non_field_errors()
    escalate = client.post(url, {"username": "newcomer", "role": Role.SYSADMIN, "region": TOWN_A})
    assert escalate.status_code == 200  # sysadmin is not among the choices an agency admin has
    assert set(RoleAssignment.objects.filter(user=newcomer).values_list("role", "region_id")) == {
        (Role.AGENT, TOWN_A)
    }


def test_agency_admin_cannot_grant_auditor_even_through_the_action():
    from django.core.exceptions import PermissionDenied

    from pingantong.regions.models import Region

    admin = make_user(Role.AGENCY_ADMIN, DISTRICT)
    with pytest.raises(PermissionDenied):
        actions.grant_role(
            actor=admin, user=make_user(), role=Role.AUDITOR, region=Region.objects.get(pk=TOWN_A)
        )


def test_revoke_role_in_own_region_and_not_own_admin_role(client):
    admin = make_user(Role.AGENCY_ADMIN, TOWN_A)
    agent = make_user(Role.AGENT, TOWN_A)
    client.force_login(admin)
    assignment = agent.role_assignments.get()
    client.post(reverse("accounts:revoke-role", args=[assignment.pk]))
    assert not agent.role_assignments.exists()
    own = admin.role_assignments.get()
    client.post(reverse("accounts:revoke-role", args=[own.pk]))
    assert admin.role_assignments.exists()
    foreign = make_user(Role.AGENT, TOWN_B).role_assignments.get()
    assert client.post(reverse("accounts:revoke-role", args=[foreign.pk])).status_code == 404


def test_role_grants_are_audited():
    from auditlog.models import LogEntry

    from pingantong.regions.models import Region

    sysadmin = make_user(Role.SYSADMIN, DISTRICT)
    target = make_user()
    assignment = actions.grant_role(
        actor=sysadmin, user=target, role=Role.AUDITOR, region=Region.objects.get(pk=DISTRICT)
    )
    assert LogEntry.objects.get_for_object(assignment).filter(action=LogEntry.Action.CREATE).exists()


def test_shift_roster_page_shows_on_duty_staff(client):
    shift = make_shift_in(TOWN_A)
    make_shift_in(TOWN_B)
    client.force_login(make_user(Role.SUPERVISOR, TOWN_A))
    page = client.get(reverse("accounts:shift-list"))
    assert list(page.context["on_duty"]) == [shift]
    assert list(page.context["object_list"]) == [shift]


def test_home_page_shows_on_duty_widget(client):
    make_shift_in(TOWN_A)
    client.force_login(make_user(Role.AGENT, TOWN_A))
    assert "1号坐席" in client.get("/").content.decode()
