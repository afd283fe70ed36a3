"""Live push of alarm changes to every console that may see them (websocket groups per region).

A console joins one group per region prefix its roles cover (`alarms.3504`, `alarms.350404001` …;
a superuser joins `alarms.all`). A change is sent to every group whose prefix is a prefix of the
alarm's region code, so region scoping holds on the live channel as on every page.

Cross-process (decision 0040): in the embedded mode the channel layer is in-process, so a change
written by the Huey worker (escalation, cascade steps) cannot reach consoles directly. The web
process runs `relay` (a registered service) that polls `Alarm.updated_at` every 0.25 s and pushes
whatever this process has not pushed itself. With Redis the layer is shared and the relay is off.
Either way the queue page re-polls every 10 s, which covers a dropped socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connections
from django.template.loader import render_to_string
from django.utils import timezone

log = logging.getLogger(__name__)

ALL_GROUP = "alarms.all"
PREFIX_LENGTHS = (2, 4, 6, 9, 12)

# What this process pushed last, per alarm: the relay skips those (no double push).
_pushed: dict[int, datetime] = {}
# The event loop the consoles' websockets live in (set when one connects). With the in-memory layer
# a push from another thread (the gateway's rules thread) must run on that loop, not a new one.
_console_loop: asyncio.AbstractEventLoop | None = None


def register_console_loop(loop: asyncio.AbstractEventLoop) -> None:
    global _console_loop
    _console_loop = loop


async def _send_all(layer: Any, groups: list[str], message: dict[str, Any]) -> None:
    for group in groups:
        await layer.group_send(group, message)


def _log_failure(future: Any) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("live push failed: %s", future.exception())


def _deliver(layer: Any, groups: list[str], message: dict[str, Any]) -> None:
    loop = _console_loop
    if relay_needed() and loop is not None and loop.is_running() and not loop.is_closed():
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not loop:
            # Fire and forget: the caller (the gateway's rules thread) must not wait for a busy loop.
            future = asyncio.run_coroutine_threadsafe(_send_all(layer, groups, message), loop)
            future.add_done_callback(_log_failure)
            return
    async_to_sync(_send_all)(layer, groups, message)


def groups_for_region(code: str) -> list[str]:
    return [ALL_GROUP, *(f"alarms.{code[:n]}" for n in PREFIX_LENGTHS if len(code) >= n)]


def render_row(alarm: Any) -> str:
    from .selectors import decorate, row_labels

    decorate([alarm])
    return render_to_string("alarms/_row.html", {"alarm": alarm, "L": row_labels()})


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


def push_alarm(alarm_id: int, *, event: str = "update", alarm: Any = None) -> None:
    """Send the alarm's current queue row to every console allowed to see it. Never raises: a push
    that fails is covered by the consoles' polling. `alarm`: the committed instance, when the
    caller has it complete (a new alarm), so the push needs no read."""
    from .selectors import queue_alarm

    try:
        if alarm is None or alarm.pk != alarm_id:
            alarm = queue_alarm(alarm_id)
        if alarm is None:
            return
        layer = get_channel_layer()
        if layer is None:
            return
        _deliver(layer, groups_for_region(alarm.region_id), message_for(alarm, event))
        _pushed[alarm.pk] = alarm.updated_at
        signal_change()
        if event == "raised":
            _record_pushed(alarm, _timing(alarm))
    except Exception:
        log.exception("live push of alarm %s failed", alarm_id)


def _timing(alarm: Any) -> dict[str, float]:
    """Milliseconds from the rules applier's start to the push (wall, and CPU of this thread), when
    the applier left its start on the instance (engine.apply_raise_alarm)."""
    started = getattr(alarm, "timing_started", None)
    if started is None:
        return {}
    wall, cpu = started
    return {
        "alarm_side_ms": round((time.perf_counter() - wall) * 1000, 2),
        "alarm_side_cpu_ms": round((time.thread_time() - cpu) * 1000, 2),
    }


def _record_pushed(alarm: Any, data: dict[str, float] | None = None) -> None:
    from .choices import StepKind
    from .models import AlarmStep

    AlarmStep.objects.create(alarm=alarm, kind=StepKind.PUSHED, actor_label="console", data=data or {})


def relay_needed() -> bool:
    backend = str(settings.CHANNEL_LAYERS.get("default", {}).get("BACKEND", ""))
    return backend.endswith("InMemoryChannelLayer")


RELAY_OVERLAP = timedelta(seconds=10)
"""How far behind its cursor the relay looks again. `updated_at` is written inside a transaction
and becomes visible at its commit, so an alarm stamped at t can appear after the relay has seen a
change stamped t + 1 s by a quicker transaction (another process, the worker, a claim). What was
already pushed (same alarm, same `updated_at`) is skipped, so the overlap costs one indexed read."""

RELAY_SECONDS = 0.25
"""Default relay period when no change signal came: an alarm raised by another process (the
gateway's rules process, the worker) reaches this process's consoles within about this long, and
within a few tens of milliseconds when its commit touched the change signal (decision 0107)."""

_PUSHED_KEEP = timedelta(minutes=30)


RELAY_MAX_PUSHES = 500
"""Alarms one relay pass pushes at most, newest change first; a mass change (hundreds of alarms
closed at once) is carried over the next passes while it stays in the overlap, and after that
left to the consoles' polling."""


def relay_once(since: datetime) -> datetime:
    """Push alarms changed since `since` (and in the overlap before now) that this process has not
    pushed, newest change first; return the new cursor.

    Newest first, so that a new alarm is never behind a mass change: with the oldest first and a
    limit, a pass that found more than the limit of changes with one timestamp (a bulk update)
    took the same rows again at every pass and never reached the alarms raised after them."""
    from .models import Alarm

    lower = min(since, timezone.now() - RELAY_OVERLAP)
    changed = (
        Alarm.objects.filter(updated_at__gt=lower)
        .order_by("-updated_at", "-pk")
        .values_list("pk", "updated_at")
    )
    cursor = since
    pushes = 0
    for alarm_id, updated_at in changed.iterator(chunk_size=RELAY_MAX_PUSHES):
        cursor = max(cursor, updated_at)
        if _pushed.get(alarm_id) == updated_at:
            continue
        push_alarm(alarm_id, event="relay")
        if (known := _pushed.get(alarm_id)) is None or known < updated_at:
            _pushed[alarm_id] = updated_at  # also when the push found nothing to send
        pushes += 1
        if pushes >= RELAY_MAX_PUSHES:
            break
    _forget_old_pushes(cursor)
    return cursor


def _forget_old_pushes(now: datetime) -> None:
    if len(_pushed) < 5000:
        return
    limit = now - _PUSHED_KEEP
    for alarm_id, updated_at in list(_pushed.items()):
        if updated_at < limit:
            _pushed.pop(alarm_id, None)


SIGNAL_CHECK_SECONDS = 0.03
"""How often the relay looks at the change signal's timestamp (one stat() call)."""


def signal_path() -> Path:
    return Path(settings.VAR_DIR) / "alarms-changed"


def signal_change() -> None:
    """Without a shared channel layer, tell the other processes on this machine that an alarm
    changed: touch a file whose timestamp their relays watch (decision 0107). A failure only
    leaves them to their periodic pass."""
    if not relay_needed():
        return
    with contextlib.suppress(OSError):
        signal_path().touch()


def _signal_stamp() -> int:
    try:
        return signal_path().stat().st_mtime_ns
    except OSError:
        return 0


def _off_the_request_thread(func: Any, executor: ThreadPoolExecutor) -> Any:
    """`func` for the relay loop to await, run in `executor` (the relay's own thread), outside
    asgiref's thread-sensitive thread: every sync view and `database_sync_to_async` call of this web
    process (a console's websocket connecting) runs there, and an escalation pass over a full queue
    held it for seconds (decision 0123). Connections are checked before and after, as around a
    request."""
    return database_sync_to_async(func, thread_sensitive=False, executor=executor)


async def relay(stop: asyncio.Event) -> None:
    """Service: carry changes written by other processes (the gateway's rules process, the task
    worker) to this process's consoles — at once when their commit touched the change signal, else
    within the relay period — and run the alarm supervision (45 s escalation, cascade deadlines)
    every few seconds, finer than the worker's one-minute crontab."""
    from .tasks import supervise

    cursor = timezone.now()
    interval = float(getattr(settings, "PINGANTONG_ALARM_RELAY_SECONDS", RELAY_SECONDS))
    supervise_every = float(getattr(settings, "PINGANTONG_ALARM_SUPERVISE_SECONDS", 5.0))
    last_supervised = 0.0
    loop = asyncio.get_running_loop()
    stamp = _signal_stamp()
    last_pass = -interval
    # The passes run in a thread of the relay's own. Django keeps a connection per thread until that
    # thread closes it: on stop, close the one the passes opened, or it stays open (idle) as long as
    # the process lives (and PostgreSQL refuses to drop a test database still in use).
    passes = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alarm-relay")
    try:
        while not stop.is_set():
            try:
                if relay_needed():
                    current = _signal_stamp()
                    if current != stamp or loop.time() - last_pass >= interval:
                        stamp, last_pass = current, loop.time()
                        cursor = await _off_the_request_thread(relay_once, passes)(cursor)
                if loop.time() - last_supervised >= supervise_every:
                    last_supervised = loop.time()
                    await _off_the_request_thread(supervise, passes)()
            except Exception:
                log.exception("alarm relay pass failed")
            wait = min(interval, SIGNAL_CHECK_SECONDS) if relay_needed() else interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)
    finally:
        with contextlib.suppress(Exception):
            await loop.run_in_executor(passes, connections.close_all)
        passes.shutdown(wait=False)
