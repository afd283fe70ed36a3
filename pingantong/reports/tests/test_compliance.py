"""Compliance figures for a hand-built October 2026 (Q1, Q2, O1, alarm answer targets)."""

from __future__ import annotations

import datetime as dt

import pytest

from pingantong.accounts.choices import Role
from pingantong.alarms.models import Alarm
from pingantong.care.models import CareCall, DailyCoverage, Task, Visit
from pingantong.clients.choices import PayingScheme
from pingantong.clients.testing import VILLAGE, make_client
from pingantong.reports.compliance import compute_compliance
from pingantong.testing.users import DISTRICT, make_user

SH = dt.timezone(dt.timedelta(hours=8))


def at(day: int, hour: int = 10, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(2026, 10, day, hour, minute, second, tzinfo=SH)


@pytest.fixture
def figures(db):
    a = make_client(
        name="甲", paying_scheme=PayingScheme.BASIC_PACKAGE, enrolled_at=at(1) - dt.timedelta(days=40)
    )
    b = make_client(
        name="乙", paying_scheme=PayingScheme.BASIC_PACKAGE, enrolled_at=at(1) - dt.timedelta(days=40)
    )
    for week in range(4):  # 甲 answered a call in each of the four full weeks; 乙 only once
        CareCall.objects.create(client=a, region_id=VILLAGE, at=at(2 + 7 * week), result="answered")
    CareCall.objects.create(client=b, region_id=VILLAGE, at=at(3), result="answered")
    Visit.objects.create(client=a, region_id=VILLAGE, verified=True, status="completed", completed_at=at(12))
    Visit.objects.create(client=b, region_id=VILLAGE, verified=False, status="completed", completed_at=at(13))
    DailyCoverage.objects.create(
        region_id=VILLAGE,
        day=dt.date(2026, 10, 5),
        due=2,
        confirmed_by_life_sign=1,
        tasks_opened=1,
        swept_at=at(5, 1),
    )
    Task.objects.create(
        kind="confirmation",
        client=b,
        region_id=VILLAGE,
        due_at=at(6, 1),
        status="done",
        outcome="confirmed_well",
        completed_at=at(5, 15),
        created_at=at(5, 1),
        updated_at=at(5, 15),
    )
    Task.objects.create(
        kind="maintenance",
        client=a,
        region_id=VILLAGE,
        due_at=at(8, 12),
        status="done",
        completed_at=at(8, 11),
        created_at=at(8, 10),
        updated_at=at(8, 11),
    )
    Task.objects.create(
        kind="maintenance",
        client=b,
        region_id=VILLAGE,
        due_at=at(9, 12),
        status="done",
        completed_at=at(9, 15),
        created_at=at(9, 10),
        updated_at=at(9, 15),
    )
    for raised, claimed, outcome in [
        (at(3), at(3, 10, 0, 40), "false_alarm"),
        (at(4), at(4, 10, 2), "hospital"),
        (at(5), at(5, 10, 5), ""),
    ]:
        Alarm.objects.create(
            alarm_type="sos",
            client=a,
            region_id=VILLAGE,
            raised_at=raised,
            claimed_at=claimed,
            status="closed" if outcome else "claimed",
            closed_at=claimed if outcome else None,
            outcome=outcome,
        )
    make_user(Role.AGENT)
    return {f.key: f for f in compute_compliance(region_code=DISTRICT, month=dt.date(2026, 10, 1))}


def test_each_figure_matches_the_hand_count(figures):
    assert (figures["daily_confirmation"].numerator, figures["daily_confirmation"].denominator) == (2, 2)
    assert (figures["followups_24h"].numerator, figures["followups_24h"].denominator) == (1, 1)
    assert (figures["weekly_calls"].numerator, figures["weekly_calls"].denominator) == (1, 2)
    assert (figures["monthly_visits"].numerator, figures["monthly_visits"].denominator) == (1, 2)
    assert (figures["alarms_60s"].numerator, figures["alarms_60s"].denominator) == (1, 3)
    assert (figures["alarms_180s"].numerator, figures["alarms_180s"].denominator) == (2, 3)
    assert (figures["alarms_closed"].numerator, figures["alarms_closed"].denominator) == (2, 3)
    assert (figures["faults_2h"].numerator, figures["faults_2h"].denominator) == (1, 2)
    staff = figures["staff_per_1000"]
    assert staff.ratio == 500.0 and staff.meets_target is True  # 1 agent for 2 clients


def test_targets_flag_what_is_missed(figures):
    assert figures["alarms_60s"].meets_target is False
    assert figures["daily_confirmation"].meets_target is True
