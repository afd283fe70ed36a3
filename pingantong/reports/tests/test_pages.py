"""Settlement and progress pages through HTTP: roles, drill-down, downloads read back in Chinese."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from pingantong.accounts.choices import Role
from pingantong.care.models import CareCall
from pingantong.clients.choices import PayingScheme
from pingantong.clients.testing import VILLAGE, make_client
from pingantong.reports.models import Settlement, SettlementStatus
from pingantong.testing.users import make_user

SH = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def served(db):
    client = make_client(
        name="王秀英",
        paying_scheme=PayingScheme.BASIC_PACKAGE,
        enrolled_at=dt.datetime(2026, 9, 1, tzinfo=SH),
    )
    call = CareCall.objects.create(
        client=client, region_id=VILLAGE, at=dt.datetime(2026, 10, 9, 9, tzinfo=SH), result="answered"
    )
    return client, call


def login(client, role):
    user = make_user(role)
    client.force_login(user)
    return user


def test_agency_computes_and_submits_bureau_approves_through_the_pages(client, served):
    login(client, Role.AGENCY_ADMIN)
    response = client.post("/reports/prepare/", {"month": "2026-10"})
    settlement = Settlement.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/reports/settlements/{settlement.pk}/"
    page = client.get(f"/reports/settlements/{settlement.pk}/").content.decode()
    assert "王秀英" in page and f"#{served[1].pk}" in page  # the line and the call behind it
    client.post(f"/reports/settlements/{settlement.pk}/submit/")
    settlement.refresh_from_db()
    assert settlement.status == SettlementStatus.SUBMITTED
    client.logout()
    login(client, Role.DISTRICT)
    client.post(f"/reports/settlements/{settlement.pk}/approve/", {"note": "同意"})
    settlement.refresh_from_db()
    assert settlement.status == SettlementStatus.APPROVED


def test_agency_cannot_approve_and_village_cannot_see(client, served):
    login(client, Role.AGENCY_ADMIN)
    client.post("/reports/prepare/", {"month": "2026-10"})
    settlement = Settlement.objects.get()
    client.post(f"/reports/settlements/{settlement.pk}/submit/")
    assert client.post(f"/reports/settlements/{settlement.pk}/approve/").status_code == 403
    client.logout()
    login(client, Role.VILLAGE)
    assert client.get(f"/reports/settlements/{settlement.pk}/").status_code == 404
    assert client.get("/reports/").status_code == 403


def test_bad_month_is_a_clear_message_not_an_error(client, served):
    login(client, Role.AGENCY_ADMIN)
    response = client.post("/reports/prepare/", {"month": "2026-13"}, follow=True)
    assert "not a month" in response.content.decode() or "2026-13" in response.content.decode()
    assert not Settlement.objects.exists()


def test_settlement_xlsx_reads_back_with_chinese(client, served):
    login(client, Role.AGENCY_ADMIN)
    client.post("/reports/prepare/", {"month": "2026-10"})
    settlement = Settlement.objects.get()
    response = client.get(f"/reports/settlements/{settlement.pk}/xlsx/")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    sheets = book.sheetnames
    assert len(sheets) == 2
    rows = list(book[sheets[1]].iter_rows(values_only=True))
    assert any("王秀英" in row for row in rows)


def test_progress_page_and_downloads_show_chinese(client, served):
    login(client, Role.DISTRICT)
    page = client.get("/reports/progress/?month=2026-10")
    assert page.status_code == 200
    text = page.content.decode()
    assert "列东街道" in text and "echarts" in text
    xlsx = client.get("/reports/progress/?month=2026-10&format=xlsx")
    book = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content)), read_only=True)
    towns = list(book[book.sheetnames[0]].iter_rows(values_only=True))
    row = next(r for r in towns if r[0] == "列东街道")
    assert row[1:3] == (1, 1)  # enrolled 1, served 1
    pdf = client.get("/reports/progress/?month=2026-10&format=pdf")
    assert pdf["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "列东街道" in text
