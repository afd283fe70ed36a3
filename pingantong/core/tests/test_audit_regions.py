"""The audit log is region-scoped (X2): an auditor or district user finds the entries about records
of their region subtree, never a sibling town's; system-wide entries reach system administrators
only; an active superuser sees everything. Through the audit page and the admin."""

from __future__ import annotations

import io

import pytest
from auditlog.models import LogEntry
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse

from pingantong.accounts.choices import Role
from pingantong.accounts.models import Shift
from pingantong.accounts.tests.factories import make_shift_in
from pingantong.core.access import AccessPolicy
from pingantong.core.audit import covering_region, export_region, log_export, log_read
from pingantong.core.models import AuditEntry
from pingantong.testing.regions import DISTRICT, TOWN_A, TOWN_B, ensure_regions, village_of
from pingantong.testing.users import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def shifts() -> tuple[Shift, Shift]:
    ensure_regions()
    return make_shift_in(village_of(TOWN_A)), make_shift_in(village_of(TOWN_B))


def _page_ids(client, user, **query) -> set[int]:
    client.force_login(user)
    response = client.get(reverse("audit-log"), query)
    assert response.status_code == 200
    return {entry.pk for entry in response.context["page"]}


def _read(obj, purpose: str = "callback") -> LogEntry:
    return log_read(user=None, obj=obj, fields=["phone"], purpose=purpose)


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.DISTRICT, Role.SYSADMIN])
def test_a_town_audit_role_sees_its_towns_entries_and_never_the_siblings(client, shifts, role):
    own, sibling = shifts
    own_read, sibling_read = _read(own), _read(sibling)
    shown = _page_ids(client, make_user(role, TOWN_A))
    assert own_read.pk in shown
    assert sibling_read.pk not in shown


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.DISTRICT])
def test_the_same_role_held_for_the_district_sees_both_towns(client, shifts, role):
    reads = [_read(shift).pk for shift in shifts]
    assert set(reads) <= _page_ids(client, make_user(role, DISTRICT))


def test_change_entries_carry_the_records_region_and_outlive_the_record(client, shifts):
    own, sibling = shifts
    own.seat = "夜班坐席"
    own.save()
    sibling.seat = "夜班坐席"
    sibling.save()
    own_pk = own.pk
    own.delete()
    changes = LogEntry.objects.filter(content_type__model="shift", object_pk=str(own_pk))
    assert {e.action for e in changes} == {
        LogEntry.Action.CREATE,
        LogEntry.Action.UPDATE,
        LogEntry.Action.DELETE,
    }
    assert {e.additional_data["region"] for e in changes} == {village_of(TOWN_A)}
    shown = _page_ids(client, make_user(Role.AUDITOR, TOWN_A), model="shift")
    assert {e.pk for e in changes} <= shown  # the deleted record's history stays in its town
    assert not LogEntry.objects.filter(pk__in=shown, object_pk=str(sibling.pk)).exists()


def test_system_wide_entries_reach_system_administrators_only(client, shifts):
    ensure_regions()
    roleless = make_user(username="newcomer")  # an account without a role: no region
    (created,) = LogEntry.objects.filter(content_type__model="user", object_pk=str(roleless.pk))
    assert "region" not in (created.additional_data or {})
    assert created.pk not in _page_ids(client, make_user(Role.AUDITOR, DISTRICT))
    assert created.pk not in _page_ids(client, make_user(Role.DISTRICT, DISTRICT))
    assert created.pk in _page_ids(client, make_user(Role.SYSADMIN, TOWN_A))
    superuser = make_user(is_superuser=True)
    everything = _page_ids(client, superuser)
    assert created.pk in everything and {_read(s).pk for s in shifts} <= _page_ids(client, superuser)


def test_an_accounts_entries_belong_to_the_region_its_roles_cover(shifts):
    own, _sibling = shifts  # own.user is an agent of a village of town A
    own.user.display_name = "王坐席"
    own.user.save()
    entry = LogEntry.objects.filter(content_type__model="user", object_pk=str(own.user.pk)).latest("pk")
    assert entry.additional_data == {"region": village_of(TOWN_A)}


def test_an_export_belongs_to_the_exporters_scope_or_the_region_it_was_filtered_to(client, shifts):
    ensure_regions()
    town_a = make_user(Role.DISTRICT, TOWN_A, username="exporter")
    assert export_region(town_a, Shift) == TOWN_A
    assert export_region(town_a, Shift, village_of(TOWN_A)) == village_of(TOWN_A)
    assert export_region(town_a, Shift, TOWN_B) == TOWN_A  # a filter outside the scope names nothing
    two_towns = make_user(Role.DISTRICT, TOWN_A)
    two_towns.role_assignments.create(role=Role.DISTRICT, region_id=TOWN_B)
    assert export_region(two_towns, Shift) == DISTRICT
    entry = log_export(user=town_a, model=Shift, count=3, fields=["phone"], purpose="roster")
    assert entry.pk in _page_ids(client, make_user(Role.AUDITOR, TOWN_A))
    assert entry.pk not in _page_ids(client, make_user(Role.AUDITOR, TOWN_B))


def test_the_region_filter_narrows_to_a_subtree(client, shifts):
    own_read, sibling_read = (_read(shift).pk for shift in shifts)
    district_auditor = make_user(Role.AUDITOR, DISTRICT)
    assert _page_ids(client, district_auditor, region=TOWN_B[:9]) & {own_read, sibling_read} == {sibling_read}


def test_the_admin_shows_the_audit_log_restricted_and_not_the_raw_log_entries(client, shifts):
    own_read, sibling_read = (_read(shift).pk for shift in shifts)
    assert LogEntry not in admin.site._registry and AuditEntry in admin.site._registry
    staff = make_user(Role.AUDITOR, TOWN_A, is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_auditentry"))
    client.force_login(staff)
    response = client.get(reverse("admin:core_auditentry_changelist"))
    assert response.status_code == 200
    shown = {e.pk for e in response.context["cl"].result_list}
    assert own_read in shown and sibling_read not in shown


def test_covering_region_is_the_smallest_common_division():
    assert covering_region([]) is None
    assert covering_region([village_of(TOWN_A)]) == village_of(TOWN_A)
    assert covering_region([village_of(TOWN_A), TOWN_A]) == TOWN_A
    assert covering_region([village_of(TOWN_A), village_of(TOWN_B)]) == DISTRICT
    assert covering_region([TOWN_A, "350102000000"]) == "350000000000"  # another city of 福建省


def test_a_foreign_key_to_the_region_code_is_read_without_loading_the_region(django_assert_num_queries):
    ensure_regions()
    shift = Shift.objects.get(pk=make_shift_in(TOWN_A).pk)
    with django_assert_num_queries(0):
        assert AccessPolicy(region_field="region__code").region_code_of(shift) == TOWN_A
        assert AccessPolicy(region_field="region__pk").region_code_of(shift) == TOWN_A
    entry = AuditEntry.objects.get(pk=_read(shift).pk)
    assert AuditEntry.access_policy.region_code_of(entry) == TOWN_A


def test_entries_from_before_regions_are_backfilled_where_the_subject_still_exists(client, shifts):
    from django.core.management import call_command

    own, sibling = shifts
    old_read = _read(own)
    old_read.additional_data = {"kind": "read", "fields": ["phone"], "purpose": "callback"}
    old_read.save(update_fields=["additional_data"])
    old_change = LogEntry.objects.filter(content_type__model="shift", object_pk=str(sibling.pk)).get()
    old_change.additional_data = None
    old_change.save(update_fields=["additional_data"])
    gone = make_shift_in(village_of(TOWN_A))
    gone_read = _read(gone)
    gone_read.additional_data = {"kind": "read"}
    gone_read.save(update_fields=["additional_data"])
    gone.delete()
    town_a_auditor = make_user(Role.AUDITOR, TOWN_A)
    assert old_read.pk not in _page_ids(client, town_a_auditor)

    out = io.StringIO()
    call_command("audit_backfill_regions", stdout=out)
    # The two above, and the creation entries of the accounts made before they got their roles.
    assert int(out.getvalue().split()[0]) >= 2 and "audit entries" in out.getvalue()

    old_read.refresh_from_db()
    old_change.refresh_from_db()
    gone_read.refresh_from_db()
    assert old_read.additional_data == {
        "kind": "read",
        "fields": ["phone"],
        "purpose": "callback",
        "region": village_of(TOWN_A),
    }
    assert old_change.additional_data == {"region": village_of(TOWN_B)}
    assert "region" not in gone_read.additional_data  # the record is gone: nothing to go by
    assert old_read.pk in _page_ids(client, town_a_auditor)
