"""Writes of the devices app (STYLE.md: typed, keyword-only, one transaction each)."""

from __future__ import annotations

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

COMMAND_TTL = timedelta(hours=24)


class CommandError(ValueError):
    """A command that cannot be queued (bad parameters, wrong protocol)."""


from pingantong.devices.appliers import apply_device_decisions  # noqa: E402

__all__ = ["apply_device_decisions"]


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
def bind_device(*, device: Device, client: Any, now: datetime | None = None) -> Device:
    """Bind a device to a client (服务对象); the device takes the client's region for access.

    When the device changes hands, the life sign it holds proves the previous client alive, not
    this one (Q1, S04–S06): `_start_binding` clears it and records the binding time."""
    previous = _lock_client_id(device)
    device.client = client
    device.region_id = client.region_id
    device.save(update_fields=["client", "region", "updated_at"])
    if previous != client.pk:
        _start_binding(device_pk=device.pk, previous_client_id=previous, now=now or timezone.now())
    return device


@transaction.atomic
def unbind_device(*, device: Device, now: datetime | None = None) -> Device:
    """Take a device off its client; it goes back to the district, where installers see it."""
    from pingantong.devices.models import default_unbound_region_code

    previous = _lock_client_id(device)
    device.client = None
    device.region_id = default_unbound_region_code()
    device.save(update_fields=["client", "region", "updated_at"])
    if previous is not None:
        _start_binding(device_pk=device.pk, previous_client_id=previous, now=now or timezone.now())
    return device


def _lock_client_id(device: Device) -> Any:
    """The stored binding, read under a row lock (the in-memory instance may be stale)."""
    return Device.objects.select_for_update().values_list("client_id", flat=True).get(pk=device.pk)


def _start_binding(*, device_pk: int, previous_client_id: Any, now: datetime) -> None:
    """The device changed hands at `now`: keep the previous client's last life sign in their history
    (LifeSign.client), then clear what described the previous person on the device's state (life
    sign, steps, position) and record the binding time. The device's own health (last seen, battery,
    signal, connection) stays: it is still the same device (decision 0111)."""
    state, _created = DeviceState.objects.select_for_update().get_or_create(device_id=device_pk)
    at = state.last_life_sign_at
    if (
        previous_client_id is not None
        and at is not None
        and (state.bound_at is None or at >= state.bound_at)
        and state.last_life_sign_source
    ):
        # The newest sign may have been thinned out of the history: keep it, under their name.
        closing = LifeSign.objects.filter(device_id=device_pk, occurred_at=at)
        if not closing.filter(client_id=previous_client_id).exists() and not closing.filter(
            client__isnull=True
        ).update(client_id=previous_client_id):
            LifeSign.objects.create(
                device_id=device_pk,
                client_id=previous_client_id,
                occurred_at=at,
                source=state.last_life_sign_source,
            )
    DeviceState.objects.filter(device_id=device_pk).update(
        bound_at=now,
        last_life_sign_at=None,
        last_life_sign_source="",
        steps=None,
        latitude=None,
        longitude=None,
        position_valid=False,
        position_at=None,
        updated_at=timezone.now(),
    )


def sync_device_regions(*, client: Any) -> int:
    """Call when a client's region changes: their devices' denormalised region follows."""
    return (
        Device.objects.filter(client=client)
        .exclude(region_id=client.region_id)
        .update(region_id=client.region_id)
    )
