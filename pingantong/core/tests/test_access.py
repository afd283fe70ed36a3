"""Unit tests of the region/role restriction (pingantong.core.access): role × region × action on
two sibling towns of 三元区 (列东街道 and 列西街道) and a village inside one of them."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import AdminSite
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from hypothesis import given
from hypothesis import strategies as st

from pingantong.accounts.admin import ShiftAdmin
from pingantong.accounts.choices import Role
from pingantong.accounts.models import Shift
from pingantong.accounts.tests.factories import make_shift_in
from pingantong.core.access import (
    AccessPolicy,
    prefix_range,
    region_lookup,
    region_q,
    user_may,
    user_may_in_region,
)
from pingantong.testing.regions import DISTRICT, TOWN_A, TOWN_B, ensure_regions, village_of
from pingantong.testing.users import make_user

pytestmark = pytest.mark.django_db

POLICY = AccessPolicy(
    region_field="region_id",
    view=frozenset({Role.VILLAGE, Role.TOWNSHIP, Role.DISTRICT}),
    add=frozenset({Role.TOWNSHIP}),
    export=frozenset({Role.DISTRICT}),
)


@pytest.fixture
def shifts():
    ensure_regions()
    return {
        "a_village": make_shift_in(village_of(TOWN_A)),
        "a_town": make_shift_in(TOWN_A),
        "b_village": make_shift_in(village_of(TOWN_B)),
        "district": make_shift_in(DISTRICT),
    }


def visible(user, action="view", policy=POLICY) -> set[str]:
    q = region_q(user, action, policy, Shift)
    qs = Shift.objects.all() if q is None else Shift.objects.filter(q)
    return {str(s.region_id) for s in qs}


def test_town_role_covers_its_town_and_villages_but_not_the_sibling_town(shifts):
    user = make_user(Role.TOWNSHIP, TOWN_A)
    assert visible(user) == {village_of(TOWN_A), TOWN_A}


def test_district_role_covers_every_town_of_the_district(shifts):
    assert visible(make_user(Role.DISTRICT, DISTRICT)) == {
        village_of(TOWN_A),
        TOWN_A,
        village_of(TOWN_B),
        DISTRICT,
    }


def test_village_role_covers_only_its_village(shifts):
    assert visible(make_user(Role.VILLAGE, village_of(TOWN_A))) == {village_of(TOWN_A)}


def test_role_not_in_policy_sees_nothing_even_in_its_region(shifts):
    assert visible(make_user(Role.AGENT, DISTRICT)) == set()


def test_roles_in_two_towns_see_both_and_nothing_else(shifts):
    user = make_user(Role.TOWNSHIP, TOWN_A)
    from pingantong.accounts.models import RoleAssignment

    RoleAssignment.objects.create(user=user, role=Role.TOWNSHIP, region_id=TOWN_B)
    user.forget_roles()
    assert visible(user) == {village_of(TOWN_A), TOWN_A, village_of(TOWN_B)}


def test_inactive_users_see_nothing_even_superusers(shifts):
    assert visible(make_user(Role.DISTRICT, DISTRICT, is_active=False)) == set()
    root = make_user(is_superuser=True, is_active=False)
    assert visible(root) == set()
    assert not user_may(root, "view", shifts["a_town"])


def test_superuser_sees_and_may_do_everything(shifts):
    root = make_user(is_superuser=True)
    assert len(visible(root)) == 4
    assert user_may(root, "delete", shifts["b_village"])


def test_sysadmin_role_has_no_implicit_bypass(shifts):
    sysadmin = make_user(Role.SYSADMIN, DISTRICT)
    assert visible(sysadmin) == set()  # POLICY does not name sysadmin
    assert len(Shift.objects.restrict(sysadmin, "view")) == 4  # Shift's policy does
    assert not Shift.objects.restrict(sysadmin, "add").exists()


def test_export_defaults_to_view_and_can_be_narrowed(shifts):
    default = AccessPolicy(region_field="region_id", view=frozenset({Role.TOWNSHIP}))
    assert default.roles_for("export") == {Role.TOWNSHIP}
    assert POLICY.roles_for("export") == {Role.DISTRICT}
    township = make_user(Role.TOWNSHIP, TOWN_A)
    assert visible(township, "export") == set()
    assert visible(township, "export", default) == {village_of(TOWN_A), TOWN_A}


def test_unknown_action_is_refused(shifts):
    assert visible(make_user(Role.DISTRICT, DISTRICT), "approve") == set()
    extra = AccessPolicy(region_field="region_id", extra={"approve": frozenset({Role.DISTRICT})})
    assert extra.roles_for("approve") == {Role.DISTRICT}


def test_object_checks_follow_the_same_rules(shifts):
    township = make_user(Role.SUPERVISOR, TOWN_A)
    assert user_may(township, "view", shifts["a_village"])
    assert user_may(township, "change", shifts["a_town"])
    assert not user_may(township, "view", shifts["b_village"])
    assert not user_may(township, "change", shifts["district"])  # above its region


def test_a_new_record_outside_ones_region_is_refused():
    ensure_regions()
    supervisor = make_user(Role.SUPERVISOR, TOWN_A)
    assert user_may(supervisor, "add", Shift(region_id=village_of(TOWN_A)))
    assert not user_may(supervisor, "add", Shift(region_id=TOWN_B))
    assert not user_may(supervisor, "add", Shift(region_id=None))
    assert user_may_in_region(supervisor, "add", Shift, TOWN_A)
    assert not user_may_in_region(supervisor, "add", Shift, TOWN_B)
    assert not user_may_in_region(supervisor, "add", Shift, DISTRICT)


def test_anonymous_user_may_nothing(shifts):
    from django.contrib.auth.models import AnonymousUser

    assert not Shift.objects.restrict(AnonymousUser()).exists()
    assert not user_may(AnonymousUser(), "view", shifts["a_town"])
    assert not user_may_in_region(AnonymousUser(), "view", Shift, TOWN_A)


def test_region_code_of_follows_paths_and_related_objects(shifts):
    shift = shifts["a_town"]
    assert AccessPolicy(region_field="region_id").region_code_of(shift) == TOWN_A
    # A path ending at the Region object gives its code, not its name.
    assert AccessPolicy(region_field="region").region_code_of(shift) == TOWN_A
    assert AccessPolicy(region_field="user__nonexistent").region_code_of(shift) is None


def test_region_lookup_turns_foreign_keys_into_pk_lookups():
    # `region_id__startswith` raises FieldError in Django; the restriction must not build it.
    assert region_lookup(Shift, "region_id") == "region__pk"
    assert region_lookup(Shift, "region") == "region__pk"
    assert region_lookup(Shift, "seat") == "seat"


def test_restrict_uses_one_query(shifts, django_assert_num_queries):
    user = make_user(Role.TOWNSHIP, TOWN_A)
    user.roles  # noqa: B018 - roles are loaded once per request
    with django_assert_num_queries(1):
        list(Shift.objects.restrict(user))


def test_admin_refuses_to_save_a_record_into_a_sibling_region():
    ensure_regions()
    from django.contrib.auth.models import Permission

    # Django's model permissions still apply in the admin; the region restriction comes on top.
    supervisor = make_user(Role.SUPERVISOR, TOWN_A, is_staff=True)
    supervisor.user_permissions.add(*Permission.objects.filter(codename__in=["change_shift", "view_shift"]))
    shift = make_shift_in(TOWN_A)
    request = RequestFactory().post("/")
    request.user = supervisor
    model_admin = ShiftAdmin(Shift, AdminSite())
    shift.region_id = TOWN_B
    with pytest.raises(PermissionDenied):
        model_admin.save_model(request, shift, form=None, change=True)
    shift.refresh_from_db()
    assert shift.region_id == TOWN_A
    assert model_admin.has_change_permission(request, shift)
    assert not model_admin.has_change_permission(request, make_shift_in(TOWN_B))
    assert list(model_admin.get_queryset(request)) == [shift]


def _form_view_request(user, data):
    request = RequestFactory().post("/", data)
    request.user = user
    request._dont_enforce_csrf_checks = True
    return request


def test_create_page_refuses_a_record_in_the_sibling_town_and_saves_nothing():
    from pingantong.core.views import RestrictedCreateView

    class ShiftCreate(RestrictedCreateView):
        model = Shift
        fields = ["user", "region", "seat", "starts_at", "ends_at"]
        success_url = "/"

    ensure_regions()
    supervisor = make_user(Role.SUPERVISOR, TOWN_A)
    agent = make_user(Role.AGENT, DISTRICT)
    data = {"user": agent.pk, "seat": "1", "starts_at": "2026-12-01 08:00", "ends_at": "2026-12-01 16:00"}
    with pytest.raises(PermissionDenied):
        ShiftCreate.as_view()(_form_view_request(supervisor, {**data, "region": TOWN_B}))
    assert not Shift.objects.exists()
    assert (
        ShiftCreate.as_view()(_form_view_request(supervisor, {**data, "region": TOWN_A})).status_code == 302
    )
    assert Shift.objects.get().region_id == TOWN_A


def test_update_page_finds_only_changeable_records_and_refuses_moves():
    from django.http import Http404

    from pingantong.core.views import RestrictedUpdateView

    class ShiftUpdate(RestrictedUpdateView):
        model = Shift
        fields = ["region", "seat"]
        success_url = "/"

    ensure_regions()
    supervisor = make_user(Role.SUPERVISOR, TOWN_A)
    own, sibling = make_shift_in(TOWN_A), make_shift_in(TOWN_B)
    with pytest.raises(Http404):
        ShiftUpdate.as_view()(_form_view_request(supervisor, {"region": TOWN_B, "seat": "x"}), pk=sibling.pk)
    with pytest.raises(PermissionDenied):
        ShiftUpdate.as_view()(_form_view_request(supervisor, {"region": TOWN_B, "seat": "x"}), pk=own.pk)
    own.refresh_from_db()
    assert own.region_id == TOWN_A and own.seat == "1号坐席"


def test_viewset_maps_actions_to_policy_actions():
    from rest_framework.test import APIRequestFactory

    from pingantong.accounts.api.views import ShiftViewSet

    factory = APIRequestFactory()

    def action_for(method: str, name: str, detail: bool, mapping: dict | None = None) -> str:
        view = ShiftViewSet()
        view.request = getattr(factory, method.lower())("/")
        view.action, view.detail = name, detail
        view.restrict_action = mapping or {}
        return view.policy_action()

    assert action_for("GET", "list", False) == "view"
    assert action_for("GET", "retrieve", True) == "view"
    assert action_for("POST", "create", False) == "add"
    assert action_for("PATCH", "partial_update", True) == "change"
    assert action_for("DELETE", "destroy", True) == "delete"
    assert action_for("POST", "claim", True) == "change"  # a record's own action changes it
    assert action_for("POST", "import_rows", False) == "add"
    assert action_for("POST", "claim", True, {"claim": "claim"}) == "claim"


@given(
    prefix=st.text(alphabet="0123456789:;-confirmatin", min_size=1, max_size=6),
    value=st.text(alphabet="0123456789:;-confirmatin", max_size=10),
)
def test_a_prefix_range_holds_exactly_the_values_with_that_prefix(prefix, value):
    """`prefix_range` (region codes, confirmation keys) under a binary order, as SQLite compares."""
    bounds = dict(prefix_range("key", prefix).children)
    assert (bounds["key__gte"] <= value < bounds["key__lt"]) == value.startswith(prefix)
