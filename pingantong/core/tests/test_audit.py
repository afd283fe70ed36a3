"""The audit trail (X2, I1): reads, exports and changes are logged, searchable by the roles that
audit, and kept at least a year."""

from __future__ import annotations

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from pingantong.accounts.choices import Role
from pingantong.accounts.models import Shift
from pingantong.accounts.tests.factories import make_shift_in
from pingantong.core.audit import log_export, log_read
from pingantong.core.tasks import purge_audit_log, purge_old_audit_entries
from pingantong.testing.regions import DISTRICT, TOWN_A, ensure_regions
from pingantong.testing.users import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def shift():
    ensure_regions()
    return make_shift_in(TOWN_A)


@pytest.fixture
def auditor_client(client):
    client.force_login(make_user(Role.AUDITOR, DISTRICT, username="auditor"))
    return client


def _rows(response) -> list[LogEntry]:
    return list(response.context["page"])


def test_a_read_of_sensitive_fields_appears_with_who_what_and_why(shift, auditor_client, rf):
    reader = make_user(Role.AGENT, DISTRICT, username="reader")
    request = rf.get("/clients/1/", REMOTE_ADDR="10.1.2.3")
    log_read(user=reader, obj=shift, fields=["phone", "address"], purpose="callback", request=request)
    rows = _rows(auditor_client.get(reverse("audit-log"), {"actor": "reader"}))
    assert len(rows) == 1
    entry = rows[0]
    assert entry.action == LogEntry.Action.ACCESS
    assert entry.additional_data == {
        "kind": "read",
        "fields": ["address", "phone"],
        "purpose": "callback",
        "region": TOWN_A,  # the shift's region: the subject's, not the reader's
    }
    assert entry.remote_addr == "10.1.2.3"
    assert entry.object_pk == str(shift.pk)


def test_an_export_is_logged_with_count_and_filters(shift, auditor_client):
    exporter = make_user(Role.DISTRICT, DISTRICT, username="exporter")
    log_export(
        user=exporter,
        model=Shift,
        count=12,
        fields=["phone"],
        purpose="monthly report",
        filters={"town": TOWN_A},
    )
    page = auditor_client.get(reverse("audit-log"), {"actor": "exporter"})
    (entry,) = _rows(page)
    assert entry.additional_data["count"] == 12 and entry.additional_data["kind"] == "export"
    assert "monthly report" in page.content.decode()


def test_a_change_of_an_audited_model_appears_with_old_and_new_values(shift, auditor_client):
    shift.seat = "夜班坐席"
    shift.save()
    rows = _rows(
        auditor_client.get(reverse("audit-log"), {"model": "shift", "action": LogEntry.Action.UPDATE})
    )
    assert len(rows) == 1
    assert rows[0].changes_dict["seat"] == ["1号坐席", "夜班坐席"]


def test_filters_by_action_object_and_date(shift, auditor_client):
    reader = make_user(Role.AGENT, DISTRICT, username="reader")
    old = log_read(user=reader, obj=shift, fields=["phone"], purpose="x")
    old.timestamp = timezone.now() - timedelta(days=40)
    old.save(update_fields=["timestamp"])
    log_read(user=reader, obj=shift, fields=["phone"], purpose="y")
    url = reverse("audit-log")
    accesses = _rows(auditor_client.get(url, {"action": LogEntry.Action.ACCESS}))
    assert {e.action for e in accesses} == {LogEntry.Action.ACCESS} and len(accesses) == 2
    recent_from = (timezone.localdate() - timedelta(days=1)).isoformat()
    assert len(_rows(auditor_client.get(url, {"action": LogEntry.Action.ACCESS, "from": recent_from}))) == 1
    old_to = (timezone.localdate() - timedelta(days=30)).isoformat()
    assert [e.pk for e in _rows(auditor_client.get(url, {"to": old_to}))] == [old.pk]
    assert _rows(auditor_client.get(url, {"object": "no-such-record"})) == []
    # Bad input is ignored, not a server error.
    assert auditor_client.get(url, {"action": "x", "from": "yesterday"}).status_code == 200


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.SYSADMIN, Role.DISTRICT])
def test_audit_roles_get_in(client, role):
    ensure_regions()
    client.force_login(make_user(role, DISTRICT))
    assert client.get(reverse("audit-log")).status_code == 200


@pytest.mark.parametrize(
    "role", [Role.AGENT, Role.FIELD_WORKER, Role.SUPERVISOR, Role.AGENCY_ADMIN, Role.VILLAGE, Role.TOWNSHIP]
)
def test_other_roles_are_refused(client, role):
    ensure_regions()
    client.force_login(make_user(role, DISTRICT))
    assert client.get(reverse("audit-log")).status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("audit-log"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def _entry_aged(shift, days: int) -> LogEntry:
    entry = log_read(user=None, obj=shift, fields=["phone"], purpose="t")
    entry.timestamp = timezone.now() - timedelta(days=days)
    entry.save(update_fields=["timestamp"])
    return entry


def test_purge_deletes_only_entries_older_than_the_retention_and_logs_it(shift, settings, caplog):
    settings.PINGANTONG_AUDIT_RETENTION_DAYS = 400
    old = _entry_aged(shift, 401)
    kept = _entry_aged(shift, 399)
    with caplog.at_level("INFO", logger="pingantong.audit"):
        purge_audit_log()  # the scheduled task itself; Huey runs it immediately in tests
    assert not LogEntry.objects.filter(pk=old.pk).exists()
    assert LogEntry.objects.filter(pk=kept.pk).exists()
    assert LogEntry.objects.filter(additional_data__kind="purge").count() == 1
    assert "1 entries older than 400 days" in caplog.text


def test_purge_never_deletes_entries_younger_than_a_year_whatever_the_setting(shift, settings):
    settings.PINGANTONG_AUDIT_RETENTION_DAYS = 30
    young = [_entry_aged(shift, days) for days in (31, 200, 364)]
    assert purge_old_audit_entries() == 0
    assert LogEntry.objects.filter(pk__in=[e.pk for e in young]).count() == 3
    _entry_aged(shift, 366)
    assert purge_old_audit_entries() == 1


def test_search_by_purpose_finds_why_a_record_was_read(shift, auditor_client):
    reader = make_user(Role.AGENT, DISTRICT, username="reader")
    log_read(user=reader, obj=shift, fields=["address"], purpose="上门探访")
    log_read(user=reader, obj=shift, fields=["phone"], purpose="callback")
    rows = _rows(auditor_client.get(reverse("audit-log"), {"purpose": "探访"}))
    assert [e.additional_data["purpose"] for e in rows] == ["上门探访"]


def test_audit_page_query_count_does_not_grow_with_entries(shift, auditor_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    reader = make_user(Role.AGENT, DISTRICT, username="reader")

    def queries_for_page() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert (
                auditor_client.get(reverse("audit-log"), {"action": LogEntry.Action.ACCESS}).status_code
                == 200
            )
        return len(captured)

    log_read(user=reader, obj=shift, fields=["phone"], purpose="x")
    few = queries_for_page()
    for _ in range(40):
        log_read(user=reader, obj=shift, fields=["phone"], purpose="x")
    assert queries_for_page() == few


def test_purge_task_is_scheduled_daily():
    from huey.contrib.djhuey import HUEY

    names = {task.name for task in HUEY._registry.periodic_tasks}
    assert any(name.endswith("purge_audit_log") for name in names)


def test_audit_pages_are_fetched_without_counting_the_log(shift, auditor_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    reader = make_user(Role.AGENT, DISTRICT, username="reader")
    for _ in range(60):
        log_read(user=reader, obj=shift, fields=["phone"], purpose="x")
    url = reverse("audit-log")
    with CaptureQueriesContext(connection) as captured:
        first = auditor_client.get(url, {"action": LogEntry.Action.ACCESS})
    assert not [q for q in captured if "COUNT(" in q["sql"].upper()]
    assert len(first.context["page"]) == 50 and first.context["has_next"]
    assert "page=2" in first.content.decode() and "action=3" in first.content.decode()
    second = auditor_client.get(url, {"action": LogEntry.Action.ACCESS, "page": 2})
    assert len(second.context["page"]) == 10 and not second.context["has_next"]
    assert not {e.pk for e in first.context["page"]} & {e.pk for e in second.context["page"]}
    assert auditor_client.get(url, {"page": "x"}).status_code == 200
