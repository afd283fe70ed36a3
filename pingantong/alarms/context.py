"""What the alarm screen shows besides the alarm: read from the clients and devices apps."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from . import selectors
from .scripts import script_for
from .telephony import get_dialer

TRAIL_HOURS = 24
TRAIL_POINTS = 300
LAST_EVENTS = 15


UNKNOWN_TERMINAL_ID_WINDOW = 20_000


def _id_window(alarm: Any) -> dict[str, int]:
    """The event-id range to search for an unknown terminal's recent events: up to the newest
    event of the alarm (or the newest stored) and `UNKNOWN_TERMINAL_ID_WINDOW` ids before it."""
    from pingantong.devices.models import DeviceEventRecord

    ids = [int(i) for i in alarm.source_event_ids or [] if str(i).isdigit()]
    top = max(ids) if ids else None
    if top is None:
        top = DeviceEventRecord.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    return {"pk__gt": top - UNKNOWN_TERMINAL_ID_WINDOW, "pk__lte": top + UNKNOWN_TERMINAL_ID_WINDOW}


def _device_block(alarm: Any) -> dict[str, Any]:
    """Device health, last life sign, last events and the position trail of the alarm's device."""
    from pingantong.devices.models import DeviceEventRecord, DeviceState, PositionRecord

    block: dict[str, Any] = {"state": None, "events": [], "trail": []}
    if alarm.device_id is not None:
        state = DeviceState.objects.filter(device_id=alarm.device_id).first()
        block["state"] = state
        events = DeviceEventRecord.objects.filter(device_id=alarm.device_id)
        positions = PositionRecord.objects.filter(
            device_id=alarm.device_id,
            valid=True,
            recorded_at__gte=timezone.now() - timedelta(hours=TRAIL_HOURS),
        )
        bound_at = state.bound_at if state is not None else None
        if bound_at is not None:
            # A device that changed hands (decision 0111): the screen shows only what happened while
            # it was worn by the alarm's client — since the binding for a current alarm, before it
            # for an alarm of the previous wearer — never another person's track or events.
            if alarm.raised_at >= bound_at:
                events = events.filter(received_at__gte=bound_at)
                positions = positions.filter(recorded_at__gte=bound_at)
            else:
                events = events.filter(received_at__lt=bound_at)
                positions = positions.filter(recorded_at__lt=bound_at)
        block["trail"] = [
            [lat, lon]
            for lat, lon in reversed(
                positions.order_by("-recorded_at").values_list("latitude", "longitude")[:TRAIL_POINTS]
            )
        ]
    elif alarm.device_ident:
        # An unknown terminal's events have no device row, and the identity column has no index:
        # read a bounded id range around the alarm's own events (ids grow with time), never the
        # whole table (ten million rows at full scale).
        events = DeviceEventRecord.objects.filter(
            device__isnull=True, device_identity=alarm.device_ident, **_id_window(alarm)
        )
    else:
        events = DeviceEventRecord.objects.none()
    block["events"] = list(
        events.order_by("-received_at").only("kind", "message", "alarms", "received_at", "device_time")[
            :LAST_EVENTS
        ]
    )
    return block


def _location_consent(client: Any) -> bool | None:
    try:
        from pingantong.clients.selectors import has_consent
    except ImportError:
        return None
    try:
        return bool(has_consent(client, "location_share"))
    except Exception:
        return None


def screen_context(alarm: Any, user: Any) -> dict[str, Any]:
    steps = list(selectors.timeline(alarm))
    client = alarm.client
    contacts = list(client.contacts.order_by("priority", "pk")) if client is not None else []
    device = _device_block(alarm)
    latest = None
    if alarm.latitude is not None and alarm.longitude is not None:
        latest = [alarm.latitude, alarm.longitude]
    elif device["state"] is not None and device["state"].latitude is not None:
        latest = [device["state"].latitude, device["state"].longitude]
    elif client is not None and client.home_lat is not None:
        latest = [client.home_lat, client.home_lon]
    life_sign = None
    if client is not None:
        from pingantong.devices.selectors import last_life_sign_for_client

        life_sign = last_life_sign_for_client(client.pk)
    return {
        "client": client,
        "life_sign": life_sign,
        "contacts": contacts,
        "device_state": device["state"],
        "device_events": device["events"],
        "map_data": {
            "latest": latest,
            "trail": device["trail"],
            "home": [client.home_lat, client.home_lon] if client and client.home_lat else None,
        },
        "script": script_for(alarm.alarm_type, (s.kind for s in steps)),
        "steps": steps,
        "dialer": get_dialer(),
        "location_consent": _location_consent(client) if client is not None else None,
        "age_seconds": int((timezone.now() - alarm.raised_at).total_seconds()),
    }
