"""Writes of the devices app (STYLE.md: typed, keyword-only, one transaction each)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from pingantong.devices.models import (
    CommandKind,
    CommandStatus,
    Device,
    DeviceState,
    DeviceType,
    DownlinkCommand,
    LifeSign,
    UnknownDeviceInbox,
)
from pingantong.gateway.pipeline import LIFE_SIGN_HISTORY_SPACING, RecordLifeSign, UpdateDeviceState

COMMAND_TTL = timedelta(hours=24)


class CommandError(ValueError):
    """A command that cannot be queued (bad parameters, wrong protocol)."""


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _states_for(device_pks: set[int]) -> dict[int, DeviceState]:
    states = {s.device_id: s for s in DeviceState.objects.filter(device_id__in=device_pks)}
    missing = [DeviceState(device_id=pk) for pk in device_pks if pk not in states]
    if missing:
        DeviceState.objects.bulk_create(missing, ignore_conflicts=True)
        states.update(
            {s.device_id: s for s in DeviceState.objects.filter(device_id__in=[m.device_id for m in missing])}
        )
    return states


STATE_FIELDS = [
    "latitude",
    "longitude",
    "position_valid",
    "position_at",
    "battery_pct",
    "signal_pct",
    "steps",
    "last_message_at",
    "last_device_seen_at",
    "updated_at",
]


def apply_device_state_updates(decisions: Sequence[UpdateDeviceState]) -> None:
    """Batch applier: one UPDATE per device per batch, whatever the number of events.

    Newer facts win: a blind-area fix older than the stored one does not move the device back.
    """
    states = _states_for({d.device_pk for d in decisions})
    now = timezone.now()
    for d in decisions:
        s = states[d.device_pk]
        s.last_message_at = _later(s.last_message_at, d.seen_at)
        s.last_device_seen_at = _later(s.last_device_seen_at, d.seen_at)
        if d.position is not None:
            lat, lon, valid, at = d.position
            if s.position_at is None or at >= s.position_at:
                s.latitude, s.longitude, s.position_valid, s.position_at = lat, lon, valid, at
        if d.battery_pct is not None:
            s.battery_pct = max(0, min(100, d.battery_pct))
        if d.signal_pct is not None:
            s.signal_pct = max(0, min(100, d.signal_pct))
        if d.steps is not None:
            s.steps = max(0, d.steps)
        s.updated_at = now
    DeviceState.objects.bulk_update(list(states.values()), STATE_FIELDS)


def record_life_signs(decisions: Sequence[RecordLifeSign]) -> None:
    """Batch applier: move `last_life_sign_at` forward and keep a thinned history (`LifeSign`)."""
    states = _states_for({d.device_pk for d in decisions})
    last_logged = {
        pk: LifeSign.objects.filter(device_id=pk).values_list("occurred_at", flat=True).first()
        for pk in states
    }
    history: list[LifeSign] = []
    for d in decisions:
        s = states[d.device_pk]
        if s.last_life_sign_at is None or d.occurred_at >= s.last_life_sign_at:
            s.last_life_sign_at, s.last_life_sign_source = d.occurred_at, d.source
        logged = last_logged.get(d.device_pk)
        if d.source == "sos" or logged is None or d.occurred_at - logged >= LIFE_SIGN_HISTORY_SPACING:
            history.append(
                LifeSign(
                    device_id=d.device_pk, occurred_at=d.occurred_at, source=d.source, event_id=d.event_id
                )
            )
            last_logged[d.device_pk] = _later(logged, d.occurred_at)
    DeviceState.objects.bulk_update(list(states.values()), ["last_life_sign_at", "last_life_sign_source"])
    LifeSign.objects.bulk_create(history)


@transaction.atomic
def register_device(
    *,
    protocol: str,
    identity: str,
    device_type: str,
    model_name: str = "",
    iccid: str = "",
    sim_number: str = "",
    tz_offset_minutes: int | None = None,
    **extra: Any,
) -> Device:
    """Add a terminal to the registry and take it off the unknown-device inbox."""
    if not DeviceType.objects.filter(pk=device_type).exists():
        raise CommandError(f"unknown device type {device_type!r}")
    kwargs: dict[str, Any] = {"model_name": model_name, "iccid": iccid, "sim_number": sim_number, **extra}
    if tz_offset_minutes is not None:
        kwargs["tz_offset_minutes"] = tz_offset_minutes
    device = Device.objects.create(protocol=protocol, identity=identity, device_type_id=device_type, **kwargs)
    DeviceState.objects.get_or_create(device=device)
    UnknownDeviceInbox.objects.filter(protocol=protocol, identity=identity).update(bound_device=device)
    return device


_VALIDATORS = {
    CommandKind.LOCATE_NOW: lambda p: {},
    CommandKind.REPORT_INTERVAL: lambda p: {"seconds": _int_in(p, "seconds", 10, 86400)},
    CommandKind.SOS_NUMBERS: lambda p: {"numbers": _phones(p)},
    CommandKind.CLOCK_ZONE: lambda p: {"minutes": _int_in(p, "minutes", -720, 840)},
    CommandKind.CALL_BACK: lambda p: {"phone": _phones({"numbers": [p.get("phone", "")]})[0]},
    CommandKind.TEXT: lambda p: {"text": _text(p, "text", 100)},
    CommandKind.RAW: lambda p: {"text": _text(p, "text", 200)},
}


def _int_in(payload: dict, key: str, low: int, high: int) -> int:
    try:
        value = int(payload[key])
    except (KeyError, TypeError, ValueError):
        raise CommandError(f"'{key}' must be an integer") from None
    if not low <= value <= high:
        raise CommandError(f"'{key}' must be between {low} and {high}")
    return value


def _phones(payload: dict) -> list[str]:
    numbers = payload.get("numbers")
    if not isinstance(numbers, list) or not 1 <= len(numbers) <= 3:
        raise CommandError("'numbers' must be a list of one to three phone numbers")
    for n in numbers:
        if not isinstance(n, str) or not n.isdigit() or not 3 <= len(n) <= 20:
            raise CommandError(f"not a phone number: {n!r}")
    return numbers


def _text(payload: dict, key: str, limit: int) -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise CommandError(f"'{key}' must be text of 1 to {limit} characters")
    return value


@transaction.atomic
def queue_command(
    *,
    device: Device,
    kind: str,
    payload: dict | None = None,
    issued_by: Any = None,
    ttl: timedelta = COMMAND_TTL,
) -> DownlinkCommand:
    """Queue a downlink; the gateway holding the device delivers it (pingantong.gateway.downlink)."""
    if kind not in _VALIDATORS:
        raise CommandError(f"unknown command {kind!r}")
    if device.protocol not in ("watch", "jt808"):
        raise CommandError(f"{device.protocol} devices take no downlink commands")
    clean = _VALIDATORS[CommandKind(kind)](payload or {})
    return DownlinkCommand.objects.create(
        device=device,
        kind=kind,
        payload=clean,
        status=CommandStatus.QUEUED,
        expires_at=timezone.now() + ttl,
        issued_by=issued_by if getattr(issued_by, "is_authenticated", False) else None,
    )


@transaction.atomic
def bind_device(*, device: Device, client: Any) -> Device:
    """Bind a device to a client (服务对象); the device takes the client's region for access."""
    device.client = client
    device.region_id = client.region_id
    device.save(update_fields=["client", "region", "updated_at"])
    return device


@transaction.atomic
def unbind_device(*, device: Device) -> Device:
    """Take a device off its client; it goes back to the district, where installers see it."""
    from pingantong.devices.models import default_unbound_region_code

    device.client = None
    device.region_id = default_unbound_region_code()
    device.save(update_fields=["client", "region", "updated_at"])
    return device


def sync_device_regions(*, client: Any) -> int:
    """Call when a client's region changes: their devices' denormalised region follows."""
    return (
        Device.objects.filter(client=client)
        .exclude(region_id=client.region_id)
        .update(region_id=client.region_id)
    )
