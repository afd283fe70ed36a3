"""Huey tasks of the notifications app: delivery with retries, broadcast batches, receipt polling.

A transient failure is retried by scheduling the same task again at the message's
`next_attempt_at` (60 s, then 10 min: `rules.RETRY_DELAYS`); the claim in `deliver_message`
makes a duplicate run harmless.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import actions


@db_task(context=False)
def deliver_message_task(message_id: int) -> str:
    outcome = actions.deliver_message(message_id=message_id)
    if outcome.retry_at is not None and outcome.status == "queued":
        deliver_message_task.schedule((message_id,), eta=outcome.retry_at)
    return outcome.status


@db_task(context=False)
def send_broadcast_batch_task(broadcast_id: int, recipient_offset: int) -> int:
    from .broadcasts import send_broadcast_batch

    return send_broadcast_batch(broadcast_id=broadcast_id, offset=recipient_offset)


@db_periodic_task(crontab(minute="*/5"))
def redeliver_stranded_messages() -> int:
    """A safety net: queued messages whose retry time passed (e.g. the worker restarted) go again."""
    from .selectors import stranded_message_ids

    ids = stranded_message_ids()
    for message_id in ids:
        deliver_message_task(message_id)
    return len(ids)


@db_periodic_task(crontab(minute="*/10"))
def poll_cap_feed() -> int:
    """S13: read the configured weather-warning feed every 10 minutes (PINGANTONG_CAP_FEED_URL)."""
    import os

    if not os.environ.get("PINGANTONG_CAP_FEED_URL"):
        return 0
    from .capfeed import fetch_cap_feed

    return fetch_cap_feed().drafts


@db_periodic_task(crontab(minute="*/5"))
def poll_delivery_receipts() -> int:
    """A safety net for lost report pushes: pull statuses from the SMS provider in use."""
    from .receipts import poll_receipts

    return poll_receipts()
