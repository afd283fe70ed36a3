"""The access matrix: role × region × action, through every web view, API view and admin.

Structure: every view, viewset and admin of a model with an `access_policy` inherits the restricted
base classes. Behaviour: for every restricted model with an access-test factory (see
pingantong.testing.access_matrix and docs/architecture.md), each role held in one town sees its own
town's records exactly when the policy lets it, never the sibling town's, through the API list and
detail endpoints, the web list pages and the admin change list; a role held for the district sees
both towns; writes through the API land only in regions the role may add to. Every restricted model
has a factory (or the suite fails naming it), and each is also checked where every view starts:
`restrict()` and `user_may()`, role by role.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse
from django.views.generic import ListView
from rest_framework import viewsets

from pingantong.accounts.choices import Role
from pingantong.core.views import RestrictedListView
from pingantong.testing import access_matrix as am
from pingantong.testing.regions import DISTRICT, TOWN_A, TOWN_B, ensure_regions, village_of
from pingantong.testing.users import make_user

MODEL_LABELS = [label for label, _model in am.matrix_models()]
# Collected once: the restricted models other apps have given an access-test factory.
COVERED = [label for label in MODEL_LABELS if label in am.access_factories()]
WITH_PAYLOAD = [label for label in COVERED if label in am.access_payloads()]
# ... and of those, the ones that an API list endpoint, a web list page or an admin change list shows.
VIEWABLE = [label for label in COVERED if am.is_shown(apps.get_model(label))]
AGGREGATED = am.access_aggregate_lists()
ROLES = list(Role)


# --- structure ---------------------------------------------------------------------------------


def test_every_view_of_a_restricted_model_inherits_the_restricted_bases():
    assert am.restricted_routes(), "the matrix found no view of a restricted model: introspection broke"
    assert am.unrestricted_views() == []


def test_every_admin_of_a_restricted_model_is_restricted():
    assert am.unrestricted_admins() == []


def test_structure_check_catches_a_view_that_forgets_the_restriction():
    from pingantong.accounts.api.serializers import ShiftSerializer
    from pingantong.accounts.models import Shift

    class ForgetfulList(ListView):
        model = Shift

    class ForgetfulViewSet(viewsets.ReadOnlyModelViewSet):
        queryset = Shift.objects.all()
        serializer_class = ShiftSerializer

    class CarefulList(RestrictedListView):
        model = Shift

    routes = [
        (am.Route("shifts/", "x", None, ForgetfulList, {}), Shift),
        (am.Route("api/v1/shifts/", "y", None, ForgetfulViewSet, {}), Shift),
        (am.Route("shifts/ok/", "z", None, CarefulList, {}), Shift),
    ]
    offenders = am.unrestricted_views(routes)
    assert len(offenders) == 2
    assert "ForgetfulList" in offenders[0] and "ForgetfulViewSet" in offenders[1]


def test_structure_check_catches_a_plain_model_admin():
    from pingantong.accounts.models import Shift

    plain = admin.ModelAdmin(Shift, admin.site)
    assert am.unrestricted_admins([(Shift, plain)]) != []


def test_model_of_view_reads_queryset_model_and_serializer_meta():
    from pingantong.accounts.api.views import ShiftViewSet
    from pingantong.accounts.models import Shift

    assert am.model_of_view(ShiftViewSet) is Shift


# --- behaviour ---------------------------------------------------------------------------------


def _ids(payload) -> set:
    rows = payload["results"] if isinstance(payload, dict) and "results" in payload else payload
    return {row.get("id") for row in rows}


def _shown_in_context(response, model) -> set:
    """The records of `model` a page put in its template context (object_list, page_obj, or any
    list/queryset of that model under another name, e.g. `rows`)."""
    from django.core.paginator import Page
    from django.db.models import QuerySet

    shown: set = set()
    contexts = response.context if isinstance(response.context, list) else [response.context]
    for context in contexts:
        for value in context.flatten().values():
            if isinstance(value, Page):
                value = value.object_list
            if (isinstance(value, QuerySet) and value.model is model) or (
                isinstance(value, list | tuple) and value and all(isinstance(v, model) for v in value)
            ):
                shown |= {obj.pk for obj in value}
    return shown


def _setup(label: str):
    model = apps.get_model(label)
    factory = am.access_factories().get(label)
    if factory is None:
        pytest.skip(f"{label}: no access-test factory (add ACCESS_FACTORIES in its app's tests/factories.py)")
    ensure_regions()
    own = factory(village_of(TOWN_A))
    sibling = factory(village_of(TOWN_B))
    return model, own, sibling


def _regions_summed_up(payload, field: str, *records) -> set:
    """The records whose region lies under a row of an aggregating list (row[field] is the code of
    the region the row sums up, e.g. a town for a village's record)."""
    from pingantong.regions.models import prefix_of

    rows = payload["results"] if isinstance(payload, dict) and "results" in payload else payload
    codes = [str(row.get(field) or "") for row in rows]
    return {
        obj.pk
        for obj in records
        if any(
            len(c) == 12 and str(obj.access_policy.region_code_of(obj)).startswith(prefix_of(c))
            for c in codes
        )
    }


def _check_api(api_client, model, user, own, own_visible: bool, sibling, sibling_visible: bool) -> None:
    list_route = am.api_list_route(model)
    if list_route is None:
        return
    api_client.force_authenticate(user)
    response = api_client.get(reverse(list_route.name), {"page_size": 500})
    assert response.status_code == 200, response.content
    field = AGGREGATED.get(am._label(model))
    ids = _ids(response.json()) if field is None else _regions_summed_up(response.json(), field, own, sibling)
    assert (own.pk in ids) is own_visible, f"{list_route.name}: own-town record"
    assert (sibling.pk in ids) is sibling_visible, f"{list_route.name}: sibling-town record"
    detail_route = am.api_detail_route(model)
    if detail_route is not None:
        for obj, visible in ((own, own_visible), (sibling, sibling_visible)):
            got = api_client.get(reverse(detail_route.name, args=[obj.pk]))
            assert got.status_code == (200 if visible else 404), (detail_route.name, obj.pk, got.status_code)


def _check_web_lists(client, model, user, own, may_view: bool, sibling) -> None:
    client.force_login(user)
    for route in am.web_list_routes(model):
        response = client.get(reverse(route.name))
        if response.status_code == 403:  # a page may demand more than the view policy: safe
            continue
        assert response.status_code == 200, (route.name, response.status_code)
        shown = _shown_in_context(response, model)
        # A page may filter further (e.g. "today's visits"), so the own-town record is required
        # only not to leak to roles that may not view it; the sibling's must never appear.
        assert may_view or own.pk not in shown, route.name
        assert sibling.pk not in shown, route.name


def _check_admin_changelist(client, model, role, own, may_view: bool, sibling) -> None:
    """A staff user with the model's Django view permission, holding `role` for town A: the admin
    change list shows A's record iff the policy lets the role view, never B's."""
    from django.contrib.auth.models import Permission

    if model not in admin.site._registry:
        return
    staff = make_user(role, TOWN_A, is_staff=True)
    staff.user_permissions.add(
        Permission.objects.get(
            content_type__app_label=model._meta.app_label, codename=f"view_{model._meta.model_name}"
        )
    )
    client.force_login(staff)
    response = client.get(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"))
    assert response.status_code == 200, response.status_code
    shown = {obj.pk for obj in response.context["cl"].result_list}
    assert (own.pk in shown) is may_view, "admin: own-town record"
    assert sibling.pk not in shown, "admin: sibling-town record"


@pytest.mark.django_db
@pytest.mark.parametrize("label", VIEWABLE)
def test_each_role_sees_exactly_its_regions_records_through_api_and_pages(
    label, api_client, client, subtests
):
    """For each role: held for town A, it sees A's record iff the policy lets it view, never
    sibling B's (API list and detail, web list pages, admin change list); held for the district, it sees both iff it may view (prefix = subtree).
    The records are made once per model; each role is a subtest, reported on its own."""
    model, own, sibling = _setup(label)
    for role in ROLES:
        with subtests.test(role=str(role)):
            may_view = role in model.access_policy.roles_for("view")
            town_user = make_user(role, TOWN_A)
            _check_api(api_client, model, town_user, own, may_view, sibling, False)
            _check_web_lists(client, model, town_user, own, may_view, sibling)
            _check_admin_changelist(client, model, role, own, may_view, sibling)
            district_user = make_user(role, DISTRICT)
            _check_api(api_client, model, district_user, own, may_view, sibling, may_view)


@pytest.mark.django_db
@pytest.mark.parametrize("label", WITH_PAYLOAD)
def test_each_role_creates_through_the_api_only_where_it_may_add(label, api_client, subtests):
    model = apps.get_model(label)
    payload_for = am.access_payloads()[label]
    route = am.api_list_route(model)
    assert route is not None, f"{label} has a create payload but no API list/create endpoint"
    ensure_regions()
    for role in ROLES:
        with subtests.test(role=str(role)):
            may_add = role in model.access_policy.roles_for("add")
            api_client.force_authenticate(make_user(role, TOWN_A))
            before = model.objects.count()
            own = api_client.post(reverse(route.name), payload_for(village_of(TOWN_A)), format="json")
            assert own.status_code == (201 if may_add else 403), own.content
            sibling = api_client.post(reverse(route.name), payload_for(village_of(TOWN_B)), format="json")
            assert sibling.status_code == 403, sibling.content
            assert model.objects.count() == before + (1 if may_add else 0)


@pytest.mark.django_db
@pytest.mark.parametrize("label", VIEWABLE)
def test_anonymous_and_inactive_users_see_nothing(label, api_client, client):
    model, _own, _sibling = _setup(label)
    inactive = make_user(Role.DISTRICT, DISTRICT, is_active=False)
    assert not model.objects.restrict(inactive).exists()
    route = am.api_list_route(model)
    if route is not None:
        assert api_client.get(reverse(route.name)).status_code in (401, 403)
        api_client.force_authenticate(inactive)
        assert api_client.get(reverse(route.name)).status_code in (401, 403)
    for page in am.web_list_routes(model):
        response = client.get(reverse(page.name))
        assert response.status_code in (302, 403), page.name  # to the login page, or refused


@pytest.mark.django_db
@pytest.mark.parametrize("label", COVERED)
def test_each_role_restricts_to_its_regions_records_at_the_queryset(label, subtests):
    """Where every view starts: `restrict(user, "view")` and `user_may(user, "view", obj)` agree
    with the policy for each role held for town A (A's record iff it may view, never B's) and for
    the district (both iff it may view). This also covers the models that only a parent's pages
    show (see test_every_covered_model_is_shown_somewhere_or_declared_unlisted)."""
    from pingantong.core.access import user_may

    model, own, sibling = _setup(label)
    for role in ROLES:
        with subtests.test(role=str(role)):
            may_view = role in model.access_policy.roles_for("view")
            for user, sibling_visible in (
                (make_user(role, TOWN_A), False),
                (make_user(role, DISTRICT), may_view),
            ):
                seen = set(
                    model.objects.restrict(user, "view")
                    .filter(pk__in=[own.pk, sibling.pk])
                    .values_list("pk", flat=True)
                )
                assert seen == {pk for pk, ok in ((own.pk, may_view), (sibling.pk, sibling_visible)) if ok}
                assert user_may(user, "view", own) is may_view
                assert user_may(user, "view", sibling) is sibling_visible


def test_matrix_covers_at_least_the_foundation_models():
    assert {"accounts.Shift", "accounts.RoleAssignment", "core.AuditEntry"} <= set(COVERED)


def test_every_restricted_model_has_an_access_test_factory():
    """A restricted model without a factory is outside the matrix: fail, naming it, so that the app
    adds one to its tests/factories.py ACCESS_FACTORIES (see docs/architecture.md)."""
    missing = sorted(set(MODEL_LABELS) - set(COVERED))
    assert missing == [], "no access-test factory (tests/factories.py ACCESS_FACTORIES): " + ", ".join(
        missing
    )


def test_every_covered_model_is_shown_somewhere_or_declared_unlisted():
    """A model with a factory but no API list, web list page or admin change list is only checked
    at the queryset level; that must be a declared fact (ACCESS_UNLISTED, with where its records
    do appear), not an oversight."""
    declared = am.access_unlisted()
    undeclared = sorted(set(COVERED) - set(VIEWABLE) - set(declared))
    assert undeclared == [], "shown nowhere and not in ACCESS_UNLISTED: " + ", ".join(undeclared)
    assert all(reason.strip() for reason in declared.values())
