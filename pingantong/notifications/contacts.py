"""Contacts' alerts (S01, S08, S10, S23, S26, S28): the primitives the alarm centre's cascade and
the rules use. The cascade itself (who next, after how long) belongs to the alarms app: it calls
`send_to_contact(..., require_ack=True)` and watches the returned message's `acknowledged_at`.
"""

from __future__ import annotations

from typing import Any

from .actions import send_notification
from .choices import ChannelKind, Priority, Purpose
from .models import Message

EMERGENCY_PURPOSES = {Purpose.SOS, Purpose.LOCATION, Purpose.VITALS, Purpose.BEHAVIOUR, Purpose.GEOFENCE}


def _contacts_of(client: Any) -> list[Any]:
    from pingantong.clients.selectors import contacts_in_order

    return list(contacts_in_order(client))


def _channel_for(contact: Any, requested: str | None) -> str:
    if requested:
        return requested
    preferred = getattr(contact, "preferred_channel", "") or ChannelKind.SMS
    return preferred if preferred in ChannelKind.values else ChannelKind.SMS


def send_to_contact(
    contact: Any,
    *,
    template: str,
    params: dict[str, Any],
    purpose: str,
    related: str = "",
    channel: str | None = None,
    priority: str | None = None,
    require_ack: bool = True,
    attempt: int = 1,
) -> Message:
    """Send one alert to one contact of a client; the returned message's `acknowledged_at` tells
    whether the person answered. `attempt` makes a deliberate re-send a new message, while the
    same call repeated (a retried job) returns the same message."""
    channel = _channel_for(contact, channel)
    recipient = (
        contact.wechat_id
        if channel == ChannelKind.WECHAT and getattr(contact, "wechat_id", None)
        else contact.phone
    )
    priority = priority or (Priority.EMERGENCY if purpose in EMERGENCY_PURPOSES else Priority.NORMAL)
    key = f"contact:{contact.pk}:{related or template}:{purpose}:{channel}:{attempt}"
    return send_notification(
        recipient=recipient,
        template=template,
        params=params,
        channel=channel,
        purpose=purpose,
        priority=priority,
        idempotency_key=key,
        client=contact.client,
        contact=contact,
        related=related,
        recipient_name=contact.name,
        require_ack=require_ack,
    )


def notify_contacts(
    *,
    client: Any,
    template: str,
    params: dict[str, Any],
    purpose: str,
    related: str = "",
    channel: str | None = None,
    require_ack: bool = False,
) -> list[Message]:
    """Alert every contact of `client` at once (S10, S23, S26, S28), in calling order."""
    return [
        send_to_contact(
            contact,
            template=template,
            params=params,
            purpose=purpose,
            related=related,
            channel=channel,
            require_ack=require_ack,
        )
        for contact in _contacts_of(client)
    ]


def alarm_params(*, client: Any, at: Any = None, minutes: int = 60, **extra: Any) -> dict[str, str]:
    """The usual parameters of a contacts' alert: the client's name, the local time, and the
    location link (or a notice when the client has not consented to sharing it)."""
    from django.utils import timezone

    from .location import link_or_notice
    from .rules import LOCAL

    when = (at or timezone.now()).astimezone(LOCAL)
    return {
        "name": client.name,
        "time": when.strftime("%m月%d日%H:%M"),
        "link": link_or_notice(client=client, minutes=minutes),
        "minutes": str(minutes),
        **{k: str(v) for k, v in extra.items()},
    }
