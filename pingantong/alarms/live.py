"""Live push of alarm changes to every console that may see them (websocket groups per region).

A console joins one group per region prefix its roles cover (`alarms.3504`, `alarms.350404001` …;
a superuser joins `alarms.all`). A change is sent to every group whose prefix is a prefix of the
alarm's region code, so region scoping holds on the live channel as on every page.

Cross-process (decision 0040): in the embedded mode the channel layer is in-process, so a change
written by the Huey worker (escalation, cascade steps) cannot reach consoles directly. The web
process runs `relay` (a registered service) that polls `Alarm.updated_at` every second and pushes
whatever this process has not pushed itself. With Redis the layer is shared and the relay is off.
Either way the queue page re-polls every 10 s, which covers a dropped socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

log = logging.getLogger(__name__)

ALL_GROUP = "alarms.all"
PREFIX_LENGTHS = (2, 4, 6, 9, 12)

# What this process pushed last, per alarm: the relay skips those (no double push).
_pushed: dict[int, datetime] = {}


def groups_for_region(code: str) -> list[str]:
    return [ALL_GROUP, *(f"alarms.{code[:n]}" for n in PREFIX_LENGTHS if len(code) >= n)]


def render_row(alarm: Any) -> str:
    return render_to_string("alarms/_row.html", {"alarm": alarm, "now": timezone.now()})


def message_for(alarm: Any, event: str) -> dict[str, Any]:
    return {
        "type": "alarm.update",
        "event": event,
        "id": alarm.pk,
        "status": alarm.status,
        "priority": alarm.priority,
        "raised_at": alarm.raised_at.timestamp(),
        "html": render_row(alarm),
    }


def push_alarm(alarm_id: int, *, event: str = "update") -> None:
    """Send the alarm's current queue row to every console allowed to see it. Never raises: a push
    that fails is covered by the consoles' polling."""
    from .selectors import queue_alarm

    try:
        alarm = queue_alarm(alarm_id)
        if alarm is None:
            return
        layer = get_channel_layer()
        if layer is None:
            return
        message = message_for(alarm, event)
        for group in groups_for_region(alarm.region_id):
            async_to_sync(layer.group_send)(group, message)
        _pushed[alarm.pk] = alarm.updated_at
        if event == "raised":
            _record_pushed(alarm)
    except Exception:
        log.exception("live push of alarm %s failed", alarm_id)


def _record_pushed(alarm: Any) -> None:
    from .choices import StepKind
    from .models import AlarmStep

    AlarmStep.objects.create(alarm=alarm, kind=StepKind.PUSHED, actor_label="console")


def relay_needed() -> bool:
    backend = str(settings.CHANNEL_LAYERS.get("default", {}).get("BACKEND", ""))
    return backend.endswith("InMemoryChannelLayer")


def relay_once(since: datetime) -> datetime:
    """Push alarms changed since `since` that this process has not pushed; return the new cursor."""
    from .models import Alarm

    cursor = since
    changed = list(
        Alarm.objects.filter(updated_at__gt=since)
        .order_by("updated_at")
        .values_list("pk", "updated_at")[:200]
    )
    for alarm_id, updated_at in changed:
        cursor = max(cursor, updated_at)
        if _pushed.get(alarm_id) != updated_at:
            push_alarm(alarm_id, event="relay")
    return cursor


async def relay(stop: asyncio.Event) -> None:
    """Service: carry changes written by other processes (the task worker) to this process's
    consoles, within about a second."""
    if not relay_needed():
        return
    cursor = timezone.now()
    interval = float(getattr(settings, "PINGANTONG_ALARM_RELAY_SECONDS", 1.0))
    while not stop.is_set():
        try:
            cursor = await sync_to_async(relay_once, thread_sensitive=True)(cursor)
        except Exception:
            log.exception("alarm relay pass failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
