"""The devices app's rules: keep each device's latest state and its life signs (S04–S06, Q1).

Pure functions over (event, context); the appliers in `actions.py` write. What proves the PERSON
(not only that the device is powered): steps going up or movement, a vitals reading, an SOS or
button press, activity on a home sensor whose type proves the person (door, motion). Logins,
heartbeats (`LK`, 0x0002) and battery reports prove only the device.
"""

from __future__ import annotations

from pingantong.devices.models.state import LifeSignSource
from pingantong.gateway.events import DeviceEvent
from pingantong.gateway.pipeline import (
    MOVEMENT_SPEED_KMH,
    Decision,
    RecordLifeSign,
    RuleContext,
    UpdateDeviceState,
)


def device_state_rule(event: DeviceEvent, ctx: RuleContext) -> list[Decision]:
    """Every event from a registered device refreshes its last-seen time and what it reported."""
    if ctx.device_pk is None:
        return []
    position = None
    if event.position is not None and not (event.position.latitude == 0 and event.position.longitude == 0):
        position = (
            event.position.latitude,
            event.position.longitude,
            event.position.valid,
            event.device_time or ctx.received_at,
        )
    return [
        UpdateDeviceState(
            device_pk=ctx.device_pk,
            seen_at=ctx.received_at,
            position=position,
            battery_pct=event.battery_pct if not event.archived else None,
            signal_pct=event.signal_pct if not event.archived else None,
            steps=event.steps if not event.archived else None,
        )
    ]


def life_sign_source(event: DeviceEvent, ctx: RuleContext) -> str | None:
    """Which kind of proof of the person this event is, or None when it proves only the device."""
    if "sos" in event.alarms:
        return LifeSignSource.SOS
    if event.vitals:
        return LifeSignSource.VITALS
    # Watches report the day's cumulative count: only a rise shows movement.
    if (
        event.steps is not None
        and event.steps > 0
        and (ctx.previous_steps is None or event.steps > ctx.previous_steps)
    ):
        return LifeSignSource.STEPS
    if (
        event.position is not None
        and event.position.valid
        and (event.position.speed_kmh or 0) >= MOVEMENT_SPEED_KMH
        and ctx.proves_person
    ):
        return LifeSignSource.STEPS
    if (
        event.kind in ("sensor", "alarm")
        and event.sensor
        and ctx.proves_person
        and _sensor_activity(event.sensor)
    ):
        return LifeSignSource.SENSOR
    return None


def _sensor_activity(sensor: dict) -> bool:
    """Someone moved: motion seen, a button pressed, a door opened (zigbee2mqtt: contact=false)."""
    return bool(sensor.get("occupancy") or sensor.get("action") or sensor.get("contact") is False)


def life_sign_rule(event: DeviceEvent, ctx: RuleContext) -> list[Decision]:
    if ctx.device_pk is None:
        return []
    source = life_sign_source(event, ctx)
    if source is None:
        return []
    # A life sign is when it happened; blind-area data may be old, and that is still true.
    occurred = (
        event.device_time if event.device_time and event.device_time <= ctx.received_at else ctx.received_at
    )
    return [
        RecordLifeSign(device_pk=ctx.device_pk, occurred_at=occurred, source=source, event_id=ctx.event_id)
    ]
