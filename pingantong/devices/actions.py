"""Writes of the devices app (STYLE.md: typed, keyword-only, one transaction each)."""

from __future__ import annotations

from datetime import timedelta
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
    UnknownDeviceInbox,
)

COMMAND_TTL = timedelta(hours=24)


class CommandError(ValueError):
    """A command that cannot be queued (bad parameters, wrong protocol)."""


from pingantong.devices.appliers import apply_device_state_updates, record_life_signs  # noqa: E402

__all__ = ["apply_device_state_updates", "record_life_signs"]


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
