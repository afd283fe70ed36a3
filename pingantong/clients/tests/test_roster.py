"""Roster import (preview names every bad row; nothing written until confirmed; re-import updates) and
export (region-scoped, masked unless permitted, audit-logged)."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from pingantong.clients import roster
from pingantong.clients.idnumber import make_test_id_number
from pingantong.clients.models import Client, Contact
from pingantong.clients.testing import make_client

from .conftest import VILLAGE

pytestmark = pytest.mark.django_db
HEADER = [
    "姓名",
    "身份证号",
    "户籍区划代码",
    "村(居)区划代码",
    "家庭住址",
    "联系电话",
    "类别",
    "风险等级",
    "紧急联系人",
    "联系人电话",
    "联系人关系",
]


def _xlsx(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _good(n, name="赵一", risk="重点"):
    return [
        name,
        make_test_id_number(sequence=n),
        VILLAGE,
        VILLAGE,
        "江滨路1号",
        "13905981234",
        "独居、空巢",
        risk,
        "赵小一",
        "13700000001",
        "儿子",
    ]


def test_bad_rows_are_each_named_and_nothing_is_written(agency_admin):
    bad_checksum = _good(502, "钱二")
    bad_checksum[1] = bad_checksum[1][:-1] + ("1" if bad_checksum[1][-1] != "1" else "2")
    unknown_village = _good(503, "孙三")
    unknown_village[3] = "350404999999"
    bad_category = _good(504, "李四")
    bad_category[6] = "富裕"
    data = _xlsx(
        [
            _good(501),
            bad_checksum,
            unknown_village,
            bad_category,
            ["", "", "", "", "", "", "", "", "", "", ""],
            _good(501, "重复"),
        ]
    )
    report = roster.read_roster(data, user=agency_admin)
    named = {(r.number, col) for r in report.bad_rows for col, _reason in r.errors}
    assert named == {(3, "身份证号"), (4, "村(居)区划代码"), (5, "类别"), (7, "身份证号")}
    assert not report.ok
    with pytest.raises(ValidationError):
        roster.apply_roster(report, user=agency_admin)
    assert not Client.objects.exists()


def test_upload_preview_then_confirm_writes_and_reimport_updates(client, agency_admin):
    client.force_login(agency_admin)
    data = _xlsx([_good(511), _good(512, "周五")])
    response = client.post(reverse("clients:roster-import"), {"file": SimpleUploadedFile("r.xlsx", data)})
    assert response.status_code == 200 and 'data-testid="confirm"' in response.content.decode()
    assert not Client.objects.exists()  # preview writes nothing
    token = response.context["token"]
    response = client.post(reverse("clients:roster-import"), {"token": token})
    assert response.status_code == 302
    assert Client.objects.count() == 2
    zhao = Client.objects.get(name="赵一")
    assert zhao.categories == ["living_alone", "empty_nest"] and zhao.risk_tier == "key"
    assert Contact.objects.get(client=zhao).relation == "child"

    again = _xlsx([_good(511, "赵一", risk="高风险")])
    report = roster.read_roster(again, user=agency_admin)
    assert [r.action for r in report.rows] == ["update"]
    roster.apply_roster(report, user=agency_admin)
    assert Client.objects.count() == 2
    zhao.refresh_from_db()
    assert zhao.risk_tier == "high"
    assert Contact.objects.filter(client=zhao).count() == 1


def test_bad_upload_shows_errors_and_no_confirm_button(client, agency_admin):
    client.force_login(agency_admin)
    bad = _good(521)
    bad[5] = "电话"
    response = client.post(
        reverse("clients:roster-import"), {"file": SimpleUploadedFile("r.xlsx", _xlsx([bad]))}
    )
    page = response.content.decode()
    bad_row = response.context["report"].bad_rows[0]
    assert bad_row.number == 2 and bad_row.errors[0][0] == "联系电话"
    assert "电话" in page and "table-danger" in page
    assert 'data-testid="confirm"' not in page
    response = client.post(
        reverse("clients:roster-import"), {"file": SimpleUploadedFile("r.xlsx", b"not excel")}
    )
    assert 'data-testid="file-error"' in response.content.decode()


def test_village_users_may_not_import_into_another_village(village_user):
    row = _good(531)
    row[3] = "350404002001"
    report = roster.read_roster(_xlsx([row]), user=village_user)
    assert report.bad_rows[0].errors == [("村(居)区划代码", "outside the regions you may edit")]


def test_export_is_region_scoped_masked_and_logged(client, village_user, district_user):
    from auditlog.models import LogEntry

    mine = make_client(region=VILLAGE, name="本村老人")
    make_client(region="350404002001", name="外村老人")
    client.force_login(village_user)
    response = client.get(reverse("clients:roster-export"))
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["本村老人"]
    assert rows[1][1] == mine.id_number_masked and "****" in rows[1][5]
    entry = LogEntry.objects.get(additional_data__kind="export")
    assert entry.actor == village_user and entry.additional_data["count"] == 1
    # Unmasked only for permitted roles.
    assert client.get(reverse("clients:roster-export") + "?unmasked=1").status_code == 403
    client.force_login(district_user)
    rows = list(
        load_workbook(
            io.BytesIO(client.get(reverse("clients:roster-export") + "?unmasked=1").content)
        ).active.iter_rows(values_only=True)
    )
    assert mine.id_number in [r[1] for r in rows[1:]] and len(rows) == 3


def test_agents_may_not_export(client, agent):
    make_client()
    client.force_login(agent)
    assert client.get(reverse("clients:roster-export")).status_code == 403
