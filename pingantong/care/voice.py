"""Automated calls through the notifications app's voice channel (S11, Q1).

A call is a `voice` message with a keypress answer (1 = all well, 2 = please call me) tied to its
task by `related="care_task:<id>"`. The notifications app records delivery and the key pressed;
`collect_call_results` (run every minute by Huey) reads them back into the task's chain, so that
care does not depend on any provider's callbacks."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.utils import timezone

from .choices import ACTIVE_STATUSES, TaskStep
from .models import Task

logger = logging.getLogger(__name__)

TEMPLATE_CODE = "care-checkin-call"
TEMPLATE_TEXT = "${name}您好，这里是平安通关爱热线。您一切安好请按1，需要我们给您回电请按2。"
# A call that rang without an answer is reported as unanswered after this long.
RING_TIMEOUT = dt.timedelta(minutes=3)


def _template():
    from pingantong.notifications.models import Template

    template, _created = Template.objects.get_or_create(
        code=TEMPLATE_CODE, defaults={"name": "平安通关爱回访语音", "purpose": "care", "text": TEMPLATE_TEXT}
    )
    return template


def related_key(task_id: int) -> str:
    return f"care_task:{task_id}"


def call_key(task: Task) -> str:
    return f"{related_key(task.pk)}:call:{task.escalation_level}:{task.attempts + 1}"


def place_call(*, task_id: int, now: dt.datetime | None = None):
    """Ring the client of an automated-call step now (nothing if the task moved on meanwhile)."""
    from pingantong.notifications.actions import send_notification

    task = Task.objects.select_related("client").filter(pk=task_id).first()
    if task is None or task.status not in ACTIVE_STATUSES or task.step != TaskStep.AUTOMATED_CALL:
        return None
    client = task.client
    if client is None or not client.phone:
        return None
    return send_notification(
        recipient=client.phone,
        template=_template(),
        params={"name": client.name, "n": task.attempts + 1},
        channel="voice",
        purpose="care",
        idempotency_key=call_key(task),
        client=client,
        related=related_key(task.pk),
        recipient_name=client.name,
        require_ack=True,
        now=now,
    )


def place_confirmation_calls(task_ids: Iterable[int], eta: dt.datetime | None = None) -> None:
    """Place the calls now, or at `eta`, through Huey: one job per 2,000 calls, so that the
    morning sweep's thousands of calls cost a handful of queue writes."""
    from .tasks import place_calls_task

    ids = list(task_ids)
    for start in range(0, len(ids), 2000):
        chunk = ids[start : start + 2000]
        try:
            if eta is None:
                place_calls_task(chunk)
            else:
                place_calls_task.schedule((chunk,), eta=eta)
        except Exception:  # the queue being down must not undo the sweep; tasks stay visible to agents
            logger.exception("automated care calls for %s tasks failed to queue", len(chunk))


def place_calls(task_ids: Iterable[int]) -> int:
    """Ring each task's client; one bad number does not stop the others. Returns calls placed."""
    placed = 0
    for task_id in task_ids:
        try:
            placed += place_call(task_id=task_id) is not None
        except Exception:
            logger.exception("automated care call for task %s failed", task_id)
    return placed


def collect_call_results(*, now: dt.datetime | None = None) -> int:
    """Feed the voice channel's answers back into the waiting tasks; returns how many moved."""
    from pingantong.notifications.models import Message

    from .actions.calls import record_automated_call_result

    now = now or timezone.now()
    waiting = {
        related_key(t.pk): t
        for t in Task.objects.filter(status__in=ACTIVE_STATUSES, step=TaskStep.AUTOMATED_CALL)
    }
    if not waiting:
        return 0
    moved = 0
    messages = Message.objects.filter(related__in=list(waiting)).order_by("related", "-id")
    seen: set[str] = set()
    for message in messages:
        if message.related in seen:
            continue
        seen.add(message.related)
        task = waiting[message.related]
        if message.idempotency_key != call_key(task):
            continue  # an older attempt's report
        if message.acknowledged_at is not None:
            answer: str | None = message.ack_result or "1"
        elif message.status in ("failed", "suppressed") or (
            message.sent_at is not None and now - message.sent_at >= RING_TIMEOUT
        ):
            answer = None
        else:
            continue
        record_automated_call_result(task=task, answer=answer, message_ref=str(message.pk), now=now)
        moved += 1
    return moved
