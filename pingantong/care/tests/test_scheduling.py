"""Care calls and visits on the calendar (S11, S12, Q2, Q4): preferred hours, quiet hours, public
holidays and client-confirmed frequency changes, on a fixed clock."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from pingantong.care import scheduling
from pingantong.care.actions import record_care_call, schedule_care_work
from pingantong.care.choices import TaskKind, TaskStep
from pingantong.care.models import HolidayOverride, Task

SH = ZoneInfo("Asia/Shanghai")
T = dt.time.fromisoformat
DEFAULT = (T("09:00"), T("11:30"))
NO_HOLIDAYS = scheduling.holiday_checker({})


def local(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(SH)


def test_slot_is_inside_the_preferred_window_and_after_the_quiet_hours():
    slot = scheduling.call_slot(
        dt.date(2026, 3, 10),
        preferred=[["09:00", "11:00"]],
        quiet_start=T("21:00"),
        quiet_end=T("09:45"),
        default_window=DEFAULT,
    )
    assert local(slot) == dt.datetime(2026, 3, 10, 9, 45, tzinfo=SH)


def test_quiet_hours_across_midnight_and_a_second_preferred_window():
    slot = scheduling.call_slot(
        dt.date(2026, 3, 10),
        preferred=[["06:00", "08:00"], ["15:00", "17:00"]],
        quiet_start=T("22:00"),
        quiet_end=T("08:30"),
        default_window=DEFAULT,
    )
    assert local(slot) == dt.datetime(2026, 3, 10, 15, 0, tzinfo=SH)


def test_a_day_whose_windows_are_all_quiet_has_no_slot():
    assert (
        scheduling.call_slot(
            dt.date(2026, 3, 10),
            preferred=[["12:00", "14:00"]],
            quiet_start=T("12:00"),
            quiet_end=T("14:30"),
            default_window=DEFAULT,
        )
        is None
    )


def test_golden_week_moves_a_call_to_the_first_working_day_and_override_table_wins():
    is_holiday = scheduling.holiday_checker({})
    assert is_holiday(dt.date(2026, 10, 4))  # the Sunday inside the break
    assert not is_holiday(dt.date(2026, 3, 14))  # an ordinary Saturday
    assert scheduling.adjust_for_holidays(dt.date(2026, 10, 1), "move", is_holiday) == dt.date(2026, 10, 8)
    assert scheduling.adjust_for_holidays(dt.date(2026, 10, 1), "skip", is_holiday) is None
    assert scheduling.adjust_for_holidays(dt.date(2026, 10, 1), "ignore", is_holiday) == dt.date(2026, 10, 1)
    corrected = scheduling.holiday_checker({dt.date(2026, 10, 8): True})
    assert scheduling.adjust_for_holidays(dt.date(2026, 10, 1), "move", corrected) == dt.date(2026, 10, 9)


@pytest.mark.django_db
def test_scheduler_puts_first_call_after_quiet_hours_and_first_visit_today(client_factory, now):
    client = client_factory(risk_tier="key", quiet_hours_start=T("20:00"), quiet_hours_end=T("10:30"))
    result = schedule_care_work(now=now)  # 10:00 in Shanghai
    call = Task.objects.get(kind=TaskKind.CARE_CALL)
    visit = Task.objects.get(kind=TaskKind.VISIT)
    assert set(result.opened) == {call.pk, visit.pk}
    assert local(call.due_at) == dt.datetime(2026, 3, 10, 10, 30, tzinfo=SH)
    assert call.step == TaskStep.AGENT_CALL and call.client_id == client.pk
    assert local(visit.due_at) == dt.datetime(2026, 3, 10, 17, 0, tzinfo=SH)
    assert visit.team == "field_worker"
    assert schedule_care_work(now=now + dt.timedelta(hours=1)).opened == []  # idempotent


@pytest.mark.django_db
def test_scheduler_moves_work_off_a_public_holiday_and_honours_the_override_table(client_factory, settings):
    client_factory(risk_tier="general")
    on_national_day = dt.datetime(2026, 10, 1, 1, 0, tzinfo=dt.UTC)
    HolidayOverride.objects.create(day=dt.date(2026, 10, 8), is_holiday=True, name="extra")
    schedule_care_work(now=on_national_day, horizon_days=10)
    call = Task.objects.get(kind=TaskKind.CARE_CALL)
    assert local(call.due_at).date() == dt.date(2026, 10, 9)
    assert call.step == TaskStep.AUTOMATED_CALL  # general risk tier: the voice channel first


@pytest.mark.django_db
def test_skip_policy_drops_the_holiday_occurrence(client_factory, settings):
    settings.PINGANTONG_CARE_HOLIDAY_POLICY = "skip"
    client_factory()
    result = schedule_care_work(now=dt.datetime(2026, 10, 1, 1, 0, tzinfo=dt.UTC))
    assert result.opened == [] and result.skipped_holiday == 2


@pytest.mark.django_db
def test_confirmed_frequency_change_moves_the_next_call(
    client_factory, user_factory, now, monkeypatch, django_capture_on_commit_callbacks
):
    from pingantong.care import receivers
    from pingantong.clients.actions import confirm_frequency_change, request_frequency_change

    monkeypatch.setattr(receivers.timezone, "now", lambda: now)

    client = client_factory(risk_tier="key")  # weekly calls by default
    agent = user_factory("agent", client.region_id)
    record_care_call(
        client=client, by=agent, result="answered", mood="good", health="good", now=now - dt.timedelta(days=3)
    )
    schedule_care_work(now=now, horizon_days=7)
    call = Task.objects.get(kind=TaskKind.CARE_CALL)
    assert local(call.due_at).date() == dt.date(2026, 3, 14)  # 7 days after 7 March

    request = request_frequency_change(
        client=client, kind="call", interval_days=14, by=agent, reason="Calls every week are too many"
    )
    call.refresh_from_db()
    assert local(call.due_at).date() == dt.date(2026, 3, 14)  # nothing changes before confirmation
    with django_capture_on_commit_callbacks(execute=True):
        confirm_frequency_change(request=request, method="verbal_recorded", by=agent)
    call.refresh_from_db()  # moved at once by the care receiver of clients' client_changed signal
    assert local(call.due_at).date() == dt.date(2026, 3, 21)  # 14 days after 7 March
    assert call.events.filter(kind="note", detail__contains="every 14 days").exists()
    assert Task.objects.filter(kind=TaskKind.CARE_CALL).count() == 1


@pytest.mark.django_db
def test_automated_care_call_retries_then_an_agent_then_the_supervisor(client_factory, user_factory):
    from pingantong.care.actions.calls import record_automated_call_result

    client = client_factory(risk_tier="general")
    agent = user_factory("agent", client.region_id)
    start = dt.datetime(2026, 3, 10, 1, 0, tzinfo=dt.UTC)
    schedule_care_work(now=start)
    task = Task.objects.get(kind=TaskKind.CARE_CALL)
    assert task.step == TaskStep.AUTOMATED_CALL
    task = record_automated_call_result(task=task, answer=None, now=start + dt.timedelta(hours=1))
    assert task.step == TaskStep.AUTOMATED_CALL and task.attempts == 1  # retried after ~10 minutes
    task = record_automated_call_result(task=task, answer=None, now=start + dt.timedelta(hours=1, minutes=11))
    assert (task.step, task.team) == (TaskStep.AGENT_CALL, "agent")  # then a human
    for minutes in (30, 90):
        record_care_call(
            client=client,
            by=agent,
            result="no_answer",
            task=task,
            now=start + dt.timedelta(hours=2, minutes=minutes),
        )
    task.refresh_from_db()
    assert (task.step, task.team, task.status) == (TaskStep.SUPERVISOR, "supervisor", "escalated")
