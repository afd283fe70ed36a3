"""Remote configuration from the device page (locate now, reporting interval, SOS numbers from the
client's contacts, clock zone), queued through the devices app's downlink queue; the gateway that
holds the device delivers it and records the device's confirmation."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from pingantong.devices.models import Device, DownlinkCommand


class RemoteConfigError(ValueError):
    """A configuration that cannot be sent (bad value, protocol without downlink); nothing queued."""


def sos_numbers_from_contacts(client: Any) -> list[str]:
    """The client's contacts' phone numbers in calling order (priority), at most three, digits only."""
    numbers: list[str] = []
    for contact in client.contacts.order_by("priority", "id"):
        digits = "".join(ch for ch in contact.phone if ch.isdigit())
        if digits and digits not in numbers:
            numbers.append(digits)
        if len(numbers) == 3:
            break
    return numbers


def configure_device(*, device: Device, kind: str, value: Any = None, by: Any = None) -> DownlinkCommand:
    """Queue one configuration command. `value`: seconds for report_interval, "+08:00" (or minutes)
    for clock_zone, a list of numbers for sos_numbers (default: the client's contacts)."""
    from pingantong.devices.actions import CommandError, queue_command
    from pingantong.devices.models.registry import parse_tz_offset

    payload: dict[str, Any]
    if kind == "locate_now":
        payload = {}
    elif kind == "report_interval":
        payload = {"seconds": value}
    elif kind == "sos_numbers":
        numbers = value
        if not numbers:
            if device.client is None:
                raise RemoteConfigError(_("The device is not bound to a client: no contacts to send."))
            numbers = sos_numbers_from_contacts(device.client)
        if not numbers:
            raise RemoteConfigError(_("The client has no contacts with a phone number."))
        payload = {"numbers": list(numbers)}
    elif kind == "clock_zone":
        try:
            minutes = value if isinstance(value, int) else parse_tz_offset(str(value or ""))
        except ValueError:
            raise RemoteConfigError(_("A clock zone looks like +08:00.")) from None
        payload = {"minutes": minutes}
    else:
        raise RemoteConfigError(_("Unknown configuration %(kind)s.") % {"kind": kind})
    try:
        return queue_command(device=device, kind=kind, payload=payload, issued_by=by)
    except CommandError as exc:
        raise RemoteConfigError(str(exc)) from None
