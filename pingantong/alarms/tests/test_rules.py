"""Each alarm rule on its own: pure functions, no database (S01, S10, S23, S25–S28)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pingantong.alarms.behaviour import Reading, door_open_at_night, no_motion
from pingantong.alarms.rules import (
    Fix,
    RaiseAlarm,
    RecordSignal,
    RuleContext,
    SafeArea,
    battery_rule,
    device_alarm_rule,
    evaluate,
    geofence_rule,
    sensor_rule,
    vitals_rule,
)
from pingantong.gateway.events import DeviceEvent, Position

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
HOME = (26.2285, 117.6126)  # 三元区
SAFE = (SafeArea(name="home", circle=(HOME[0], HOME[1], 300.0)),)
NORTH_1KM = HOME[0] + 0.009


def event(**kw) -> DeviceEvent:
    base = {"protocol": "watch", "device_id": "4700186508", "message": "AL", "kind": "alarm"}
    return DeviceEvent(**{**base, **kw})


def ctx(**kw) -> RuleContext:
    return RuleContext(now=NOW, **kw)


def test_sos_raises_priority_one_alarm():
    [d] = device_alarm_rule(event(alarms=["sos"]), ctx())
    assert isinstance(d, RaiseAlarm) and d.alarm_type == "sos" and d.priority == 1
    assert d.from_unbound_device is False


def test_sos_from_unbound_device_is_raised_and_flagged_never_dropped():
    [d] = device_alarm_rule(event(alarms=["sos"]), ctx(bound=False))
    assert isinstance(d, RaiseAlarm) and d.alarm_type == "sos" and d.from_unbound_device is True


def test_sos_with_low_battery_raises_sos_and_records_battery_as_signal():
    decisions = device_alarm_rule(event(alarms=["low_battery", "sos"]), ctx())
    assert [type(d).__name__ for d in decisions] == ["RaiseAlarm", "RecordSignal"]
    assert decisions[0].alarm_type == "sos" and decisions[1].signal_type == "low_battery"


def test_fall_and_removed_are_alarms():
    types = {d.alarm_type for d in device_alarm_rule(event(alarms=["fall", "removed"]), ctx())}
    assert types == {"fall", "removed"}


def test_low_battery_and_power_off_are_signals_not_alarms():
    decisions = device_alarm_rule(event(alarms=["low_battery", "power_off"]), ctx())
    assert all(isinstance(d, RecordSignal) for d in decisions) and len(decisions) == 2


def test_device_geofence_bit_is_only_recorded_our_rule_decides():
    [d] = device_alarm_rule(event(alarms=["geofence_exit"]), ctx())
    assert isinstance(d, RecordSignal)


def test_blind_area_sos_is_still_raised():
    [d] = device_alarm_rule(event(alarms=["sos"], archived=True), ctx())
    assert isinstance(d, RaiseAlarm)


def sensor_event(sensor: dict, alarms=()) -> DeviceEvent:
    return DeviceEvent(
        protocol="mqtt",
        device_id="0x00158d0001",
        message="state",
        kind="sensor",
        sensor=sensor,
        alarms=list(alarms),
    )


def test_smoke_gas_and_water_leak_sensors_raise_alarms():
    assert [d.alarm_type for d in sensor_rule(sensor_event({"smoke": True}), ctx())] == ["smoke"]
    assert [d.alarm_type for d in sensor_rule(sensor_event({"gas_alarm_1": True}), ctx())] == ["gas"]
    assert [d.alarm_type for d in sensor_rule(sensor_event({"water_leak": True}), ctx())] == ["water_leak"]
    assert sensor_rule(sensor_event({"smoke": False, "water_leak": False}), ctx()) == []


def test_smoke_priority_equals_sos():
    [d] = sensor_rule(sensor_event({"smoke": True}), ctx())
    assert d.priority == 1


def test_sos_button_action_raises_sos_for_each_vendor_spelling():
    for action in ("emergency", "single", "hold"):
        [d] = sensor_rule(sensor_event({"action": action}), ctx())
        assert d.alarm_type == "sos"
    assert sensor_rule(sensor_event({"action": "brightness_up"}), ctx()) == []


def test_normalised_sensor_payload_raises_its_type():
    [d] = sensor_rule(sensor_event({"type": "gas", "alarm": True}), ctx())
    assert d.alarm_type == "gas"


def test_sensor_alarm_already_decoded_by_codec_is_not_doubled():
    e = sensor_event({"smoke": True}, alarms=["smoke"])
    assert [d.alarm_type for d in evaluate(e, ctx())] == ["smoke"]


def test_sensor_battery_low_is_a_signal():
    [d] = sensor_rule(sensor_event({"battery_low": True}), ctx())
    assert isinstance(d, RecordSignal)


def pos_event(lat, lon, *, valid=True, at=NOW, satellites=8, extra=None) -> DeviceEvent:
    return DeviceEvent(
        protocol="watch",
        device_id="4700186508",
        message="UD",
        kind="position",
        device_time=at,
        position=Position(lat, lon, valid, satellites=satellites),
        extra=extra or {},
    )


def outside_history(minutes: int) -> tuple[Fix, ...]:
    return tuple(
        Fix(at=NOW - timedelta(minutes=m), latitude=NORTH_1KM, longitude=HOME[1])
        for m in range(minutes, 0, -1)
    )


def test_geofence_exit_after_dwell_raises():
    c = ctx(safe_areas=SAFE, recent_fixes=outside_history(6))
    [d] = geofence_rule(pos_event(NORTH_1KM, HOME[1]), c)
    assert d.alarm_type == "geofence_exit" and 650 < d.data["distance_m"] < 750


def test_geofence_exit_before_dwell_does_not_raise():
    c = ctx(safe_areas=SAFE, recent_fixes=outside_history(2))
    assert geofence_rule(pos_event(NORTH_1KM, HOME[1]), c) == []


def test_gps_drift_spike_outside_between_inside_fixes_does_not_raise():
    # Inside, inside, then one wild fix 1 km out: the dwell clock starts at the spike, so no alarm.
    history = (Fix(NOW - timedelta(minutes=10), *HOME), Fix(NOW - timedelta(minutes=1), *HOME))
    c = ctx(safe_areas=SAFE, recent_fixes=history)
    assert geofence_rule(pos_event(NORTH_1KM, HOME[1]), c) == []


def test_inside_fix_during_excursion_resets_dwell():
    history = (
        *outside_history(10)[:5],
        Fix(NOW - timedelta(minutes=3), *HOME),
        Fix(NOW - timedelta(minutes=2), NORTH_1KM, HOME[1]),
    )
    c = ctx(safe_areas=SAFE, recent_fixes=history)
    assert geofence_rule(pos_event(NORTH_1KM, HOME[1]), c) == []


def test_invalid_v_fix_never_triggers_geofence():
    c = ctx(safe_areas=SAFE, recent_fixes=outside_history(30))
    assert geofence_rule(pos_event(NORTH_1KM, HOME[1], valid=False), c) == []


def test_poor_accuracy_fix_never_triggers_geofence():
    c = ctx(safe_areas=SAFE, recent_fixes=outside_history(30))
    assert geofence_rule(pos_event(NORTH_1KM, HOME[1], extra={"accuracy_m": 800}), c) == []
    assert geofence_rule(pos_event(NORTH_1KM, HOME[1], satellites=2), c) == []


def test_fix_just_outside_within_its_accuracy_does_not_raise():
    just_out = HOME[0] + 0.0030  # ~334 m north: 34 m outside a 300 m circle
    history = tuple(
        Fix(NOW - timedelta(minutes=m), just_out, HOME[1], accuracy_m=50) for m in range(20, 0, -1)
    )
    c = ctx(safe_areas=SAFE, recent_fixes=history)
    assert geofence_rule(pos_event(just_out, HOME[1], extra={"accuracy_m": 50}), c) == []


def test_polygon_safe_area_inside_and_outside():
    square = SafeArea.from_json(
        {
            "name": "village",
            "polygon": [
                [HOME[0] - 0.005, HOME[1] - 0.005],
                [HOME[0] - 0.005, HOME[1] + 0.005],
                [HOME[0] + 0.005, HOME[1] + 0.005],
                [HOME[0] + 0.005, HOME[1] - 0.005],
            ],
        }
    )
    assert square.distance_outside_m(*HOME) == 0
    assert 400 < square.distance_outside_m(NORTH_1KM, HOME[1]) < 500
    c = ctx(safe_areas=(square,), recent_fixes=outside_history(6))
    assert [d.alarm_type for d in geofence_rule(pos_event(NORTH_1KM, HOME[1]), c)] == ["geofence_exit"]


def vitals_event(**vitals) -> DeviceEvent:
    return DeviceEvent(protocol="watch", device_id="1", message="bphrt", kind="vitals", vitals=vitals)


def test_vitals_outside_default_limits_raise():
    [d] = vitals_rule(vitals_event(heart_rate_bpm=150), ctx())
    assert d.alarm_type == "vital_abnormal" and "HR 150 > 130" in d.detail


def test_vitals_inside_limits_do_not_raise_and_zero_reading_is_ignored():
    assert vitals_rule(vitals_event(heart_rate_bpm=72, spo2_pct=97), ctx()) == []
    assert vitals_rule(vitals_event(heart_rate_bpm=0), ctx()) == []


def test_client_thresholds_override_defaults():
    c = ctx(vital_limits={"bp_systolic_mmhg": (90, 150)})
    [d] = vitals_rule(vitals_event(bp_systolic_mmhg=160), c)
    assert "SBP 160 > 150" in d.detail
    assert vitals_rule(vitals_event(bp_systolic_mmhg=160), ctx()) == []


def test_low_battery_percentage_is_a_signal():
    e = DeviceEvent(protocol="watch", device_id="1", message="LK", kind="heartbeat", battery_pct=9)
    [d] = battery_rule(e, ctx())
    assert isinstance(d, RecordSignal) and d.signal_type == "low_battery"
    assert (
        battery_rule(
            DeviceEvent(protocol="watch", device_id="1", message="LK", kind="heartbeat", battery_pct=80),
            ctx(),
        )
        == []
    )


def test_no_motion_all_day_raises_no_activity():
    readings = [Reading(NOW - timedelta(hours=13), "motion", True)]
    alarm = no_motion(readings, now=NOW, hours=12)
    assert alarm is not None and alarm.alarm_type == "no_activity"
    assert no_motion([Reading(NOW - timedelta(hours=2), "motion", True)], now=NOW, hours=12) is None


def test_no_motion_waits_for_a_new_installation():
    assert no_motion([], now=NOW, hours=12, watched_since=NOW - timedelta(hours=3)) is None
    assert no_motion([], now=NOW, hours=12, watched_since=NOW - timedelta(hours=13)) is not None


def test_door_open_at_night_raises_only_at_night_after_minutes():
    night = datetime(2026, 11, 28, 16, 0, tzinfo=UTC)  # 00:00 in Shanghai
    opened = [Reading(night - timedelta(minutes=20), "door", True)]
    alarm = door_open_at_night(opened, now=night, minutes=15)
    assert alarm is not None and alarm.detail == "door open at night"
    assert door_open_at_night(opened, now=night - timedelta(minutes=10), minutes=15) is None
    day = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)  # noon in Shanghai
    assert door_open_at_night([Reading(day - timedelta(hours=1), "door", True)], now=day) is None
    closed = [*opened, Reading(night - timedelta(minutes=5), "door", False)]
    assert door_open_at_night(closed, now=night) is None
