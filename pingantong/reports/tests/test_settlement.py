"""A hand-counted month (October 2026) against the settlement computation and workflow (P3, F1)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from pingantong.accounts.choices import Role
from pingantong.alarms.models import Alarm
from pingantong.care.models import CareCall, Task, Visit
from pingantong.clients.choices import ClientStatus, PayingScheme
from pingantong.clients.testing import OTHER_VILLAGE, VILLAGE, make_client
from pingantong.inventory.models import Installation
from pingantong.reports import actions
from pingantong.reports.models import SettlementStatus
from pingantong.reports.settlement import compute_settlement
from pingantong.testing.users import DISTRICT, make_user

SH = dt.timezone(dt.timedelta(hours=8))
OCTOBER = dt.date(2026, 10, 1)


def at(day: int, month: int = 10, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=SH)


def basic(name: str, *, enrolled: dt.datetime = at(1, 9), region: str = VILLAGE, **fields):
    fields.setdefault("paying_scheme", PayingScheme.BASIC_PACKAGE)
    return make_client(region=region, name=name, enrolled_at=enrolled, **fields)


def answered_call(client, when):
    return CareCall.objects.create(client=client, region_id=client.region_id, at=when, result="answered")


@pytest.fixture
def month(db):
    """A: call + verified visit · B: terminated 15 Oct after a confirmation · C: nothing delivered ·
    D: self-paid · E: enrolled in November · F: service ended in September (a call in October does
    not count) · H: an alarm handled · G: other town, served. Plus A's first installation."""
    a = basic("甲")
    answered_call(a, at(5))
    Visit.objects.create(
        client=a, region_id=a.region_id, verified=True, status="completed", completed_at=at(20)
    )
    CareCall.objects.create(client=a, region_id=a.region_id, at=at(6), result="no_answer")  # not evidence
    b = basic("乙", status=ClientStatus.TERMINATED, service_end_date=dt.date(2026, 10, 15))
    now = at(3)
    Task.objects.create(
        kind="confirmation",
        client=b,
        region_id=b.region_id,
        due_at=now,
        status="done",
        outcome="confirmed_well",
        completed_at=now,
        created_at=now,
        updated_at=now,
    )
    c = basic("丙")
    d = make_client(name="丁", paying_scheme=PayingScheme.SELF_PAID, enrolled_at=at(1, 9))
    answered_call(d, at(7))
    e = basic("戊", enrolled=at(2, 11))
    answered_call(e, at(3, 11))
    f = basic("己", status=ClientStatus.TERMINATED, service_end_date=dt.date(2026, 9, 30))
    answered_call(f, at(8))
    h = basic("辛")
    Alarm.objects.create(
        alarm_type="sos",
        client=h,
        region_id=h.region_id,
        raised_at=at(10),
        status="closed",
        closed_at=at(10, hour=11),
        outcome="resolved_by_phone",
    )
    g = basic("庚", region=OTHER_VILLAGE)
    answered_call(g, at(9))
    Installation.objects.create(
        client=a,
        region_id=a.region_id,
        installer=make_user(),
        started_at=at(2),
        status="done",
        completed_at=at(2),
    )
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "g": g, "h": h}


@override_settings(PINGANTONG_FIRST_INSTALLATION_FEE_YUAN="150.00")
def test_october_settlement_matches_the_hand_count(month):
    computed = compute_settlement(region_code=DISTRICT, month=OCTOBER)
    billed = {line.client_name for line in computed.lines if line.kind == "basic"}
    assert billed == {"甲", "乙", "辛", "庚"}
    assert computed.eligible == 5  # 甲 乙 丙 辛 庚
    assert computed.eligible_without_service == 1  # 丙
    assert computed.total("basic") == Decimal("120.00")  # 4 × 30
    assert computed.count("installation") == 1
    assert computed.total("installation") == Decimal("150.00")
    a_line = next(line for line in computed.lines if line.client_name == "甲" and line.kind == "basic")
    assert a_line.evidence["counts"] == {"calls": 1, "visits": 1}
    assert a_line.evidence_count == 2


def test_a_town_settlement_leaves_out_other_towns(month):
    computed = compute_settlement(region_code="350404001000", month=OCTOBER)
    assert "庚" not in {line.client_name for line in computed.lines}
    assert computed.count("basic") == 3


def test_the_rate_is_configurable(month):
    with override_settings(PINGANTONG_BASIC_RATE_YUAN="35"):
        computed = compute_settlement(region_code=DISTRICT, month=OCTOBER)
    assert computed.total("basic") == Decimal("140")


def test_workflow_submit_query_answer_approve_then_frozen(month):
    agency = make_user(Role.AGENCY_ADMIN)
    bureau = make_user(Role.DISTRICT)
    settlement = actions.prepare_settlement(region_code=DISTRICT, month=OCTOBER)
    assert settlement.person_months == 4 and settlement.basic_amount == Decimal("120.00")
    assert settlement.lines.count() == 5
    settlement = actions.submit_settlement(settlement=settlement, user=agency)
    line = settlement.lines.get(client_name="辛")
    actions.query_line(line=line, user=bureau, question="这次报警处置记录在哪里？")
    with pytest.raises(ValidationError, match="未答复"):
        actions.approve_settlement(settlement=settlement, user=bureau)
    actions.answer_query(line=line, user=agency, answer="见报警 时间线")
    settlement = actions.approve_settlement(settlement=settlement, user=bureau)
    assert settlement.status == SettlementStatus.APPROVED
    # Later evidence does not alter an approved month: recomputing is refused.
    answered_call(month["c"], at(25))
    with pytest.raises(ValidationError, match="不能重新计算"):
        actions.prepare_settlement(region_code=DISTRICT, month=OCTOBER)
    settlement.refresh_from_db()
    assert settlement.person_months == 4


def test_returned_settlement_needs_a_reason_and_can_be_recomputed(month):
    agency = make_user(Role.AGENCY_ADMIN)
    bureau = make_user(Role.DISTRICT)
    settlement = actions.submit_settlement(
        settlement=actions.prepare_settlement(region_code=DISTRICT, month=OCTOBER), user=agency
    )
    with pytest.raises(ValidationError):
        actions.return_settlement(settlement=settlement, user=bureau, note=" ")
    actions.return_settlement(settlement=settlement, user=bureau, note="请补充丙的服务记录")
    answered_call(month["c"], at(25))
    settlement = actions.prepare_settlement(region_code=DISTRICT, month=OCTOBER)
    assert settlement.status == SettlementStatus.DRAFT
    assert settlement.person_months == 5
