"""Supervision per device type (thresholds from the type), maintenance tasks with the 2-hour remedy
target and no duplicates, and the weekly check of SOS buttons and wearables."""

from __future__ import annotations

import datetime as dt

import pytest

from pingantong.care.models import Task
from pingantong.clients.testing import make_client
from pingantong.devices.models import DeviceEventRecord, DeviceState
from pingantong.inventory import actions
from pingantong.inventory.choices import CheckResult, HealthProblem, StockState
from pingantong.inventory.models import DeviceCheck, DeviceTypeProfile
from pingantong.inventory.selectors import health_of_device

from .helpers import item_in_state, model, new_item

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 23, 4, 0, tzinfo=dt.UTC)  # a Monday


def installed(code: str, *, seen_hours_ago: float | None, battery: int | None = 80):
    client = make_client()
    item = new_item(model(code))
    item, _ = actions.assign_stock_item(item=item, client=client)
    from pingantong.inventory.actions.stock import record_transition

    record_transition(item=item, action="install")
    seen = NOW - dt.timedelta(hours=seen_hours_ago) if seen_hours_ago is not None else None
    DeviceState.objects.filter(device=item.device).update(
        last_device_seen_at=seen, last_message_at=seen, battery_pct=battery
    )
    item.device.refresh_from_db()
    return item


def test_door_sensor_silent_for_20_hours_is_fine():
    item = installed("door", seen_hours_ago=20)
    health = health_of_device(item.device, NOW)
    assert health.ok, health.problems
    assert actions.supervise_devices(now=NOW) == []


def test_watch_silent_for_20_hours_is_not_and_opens_a_maintenance_task_due_in_2_hours():
    item = installed("watch", seen_hours_ago=20)
    health = health_of_device(item.device, NOW)
    assert HealthProblem.SILENT in health.problems
    [task] = actions.supervise_devices(now=NOW)
    assert task.kind == "maintenance" and task.client == item.client and task.team == "field_worker"
    assert task.due_at == NOW + dt.timedelta(hours=2)
    assert "substitute device" in task.reason and "20.0 h" in task.reason


def test_the_threshold_comes_from_the_type():
    item = installed("door", seen_hours_ago=20)
    DeviceTypeProfile.objects.filter(device_type_id="door").update(device_silence_s=10 * 3600)
    item.device.device_type.refresh_from_db()
    assert HealthProblem.SILENT in health_of_device(item.device, NOW).problems


def test_no_duplicate_task_while_one_is_open_and_a_new_one_after_it_is_closed():
    from pingantong.care.actions import complete_task

    installed("watch", seen_hours_ago=5)
    [task] = actions.supervise_devices(now=NOW)
    assert actions.supervise_devices(now=NOW + dt.timedelta(minutes=10)) == []
    assert Task.objects.filter(kind="maintenance").count() == 1
    complete_task(task=task, outcome="completed", notes={"remedy": "substitute device"})
    assert len(actions.supervise_devices(now=NOW + dt.timedelta(minutes=20))) == 1


def test_a_device_still_faulty_after_its_task_was_closed_gets_a_new_one_from_the_sweep():
    from pingantong.care.actions import complete_task

    item = installed("smoke", seen_hours_ago=1)
    actions.report_fault(item=item, reason="beeps every minute")
    first = Task.objects.get(kind="maintenance")
    complete_task(task=first, outcome="completed", notes={"remedy": "manual service"})
    [task] = actions.supervise_devices(now=NOW)
    assert task.pk != first.pk and "fault" in task.reason


def test_health_shows_low_battery_and_taken_off():
    item = installed("watch", seen_hours_ago=0.1, battery=12)
    DeviceEventRecord.objects.create(
        device=item.device,
        protocol="watch",
        device_identity=item.device.identity,
        message="AL",
        kind="alarm",
        alarms=["removed"],
        received_at=NOW - dt.timedelta(minutes=30),
    )
    problems = health_of_device(item.device, NOW).problems
    assert HealthProblem.LOW_BATTERY in problems and HealthProblem.REMOVED in problems
    assert actions.supervise_devices(now=NOW) == []  # shown, but not a maintenance case


def test_a_device_not_yet_installed_that_never_reported_opens_no_task():
    client = make_client()
    actions.assign_stock_item(item=new_item(model("watch")), client=client)
    assert actions.supervise_devices(now=NOW) == []


def _sos(device, at):
    DeviceEventRecord.objects.create(
        device=device,
        protocol="watch",
        device_identity=device.identity,
        message="AL",
        kind="alarm",
        alarms=["sos"],
        received_at=at,
    )


def test_weekly_check_passes_with_a_recent_press_and_fails_into_a_task_without_one():
    pressed = installed("watch", seen_hours_ago=0.1)
    quiet = installed("sos_button", seen_hours_ago=1)
    door = installed("door", seen_hours_ago=1)
    _sos(pressed.device, NOW - dt.timedelta(days=3))
    _sos(quiet.device, NOW - dt.timedelta(days=8))  # too old
    results = {c.device_id: c for c in actions.run_weekly_check(now=NOW)}
    assert door.device_id not in results  # door contacts are not checked weekly
    assert results[pressed.device_id].result == CheckResult.PASSED
    assert results[pressed.device_id].evidence == "sos press"
    failed = results[quiet.device_id]
    assert failed.result == CheckResult.FAILED and failed.task is not None
    assert failed.task.kind == "maintenance" and "test call" in failed.task.reason


def test_weekly_check_is_idempotent_within_the_week():
    installed("watch", seen_hours_ago=0.1)
    assert len(actions.run_weekly_check(now=NOW)) == 1
    assert actions.run_weekly_check(now=NOW + dt.timedelta(hours=5)) == []
    assert DeviceCheck.objects.count() == 1 and Task.objects.count() == 1


def test_a_recorded_test_call_counts_for_the_weekly_check():
    item = installed("pendant", seen_hours_ago=0.1)
    actions.record_test_call(
        device=item.device, note="pressed with the client", now=NOW - dt.timedelta(days=1)
    )
    [check] = actions.run_weekly_check(now=NOW)
    assert check.result == CheckResult.PASSED and check.evidence == "test call"


def test_periodic_tasks_run_the_sweeps():
    from pingantong.inventory.tasks import supervise_devices_periodically, weekly_device_check

    installed("watch", seen_hours_ago=30)
    assert supervise_devices_periodically.call_local() == 1
    assert weekly_device_check.call_local() == 1


def test_item_helper_reaches_installed_state():
    assert item_in_state(StockState.INSTALLED).state == StockState.INSTALLED


def test_benchmark_sweep_opens_exactly_one_task_per_silent_device():
    from pingantong.inventory.bench import bench_device_supervision

    figures = {f["name"]: f for f in bench_device_supervision(0.002)["figures"]}
    assert figures["opened exactly the silent ones"]["value"] == 1
    assert figures["duplicates on re-run"]["value"] == 0


def test_reporting_a_fault_on_a_device_in_a_home_opens_the_task_at_once():
    item = installed("watch", seen_hours_ago=0.1)
    actions.report_fault(item=item, reason="screen dark")
    task = Task.objects.get(kind="maintenance", source_ref=f"device:{item.device_id}")
    assert "screen dark" in task.reason and task.client == item.client
    assert actions.supervise_devices(now=NOW) == []  # no duplicate from the sweep
