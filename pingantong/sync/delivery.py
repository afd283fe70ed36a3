"""Delivering the outbox: in order, retries with exponential backoff, dead letters, reconciliation."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from .adapter import DeliveryError, ProvincialAdapter
from .mapping import envelope
from .models import OutboxEvent, OutboxStatus, ReconciliationReport

log = logging.getLogger("pingantong.sync")
MAX_ATTEMPTS = 10
BASE_DELAY_S = 30
MAX_DELAY_S = 3600


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(MAX_DELAY_S, BASE_DELAY_S * 2 ** max(0, attempts - 1)))


def deliver_pending(
    *, adapter: ProvincialAdapter | None = None, now: datetime | None = None, limit: int = 500
) -> dict:
    """Deliver due events oldest first. An outage stops the run (later events wait, order is kept)."""
    adapter = adapter or ProvincialAdapter.from_environment()
    if adapter is None:
        return {"sent": 0, "failed": 0, "dead": 0, "skipped": "no PINGANTONG_PROVINCE_URL"}
    now = now or timezone.now()
    result = {"sent": 0, "failed": 0, "dead": 0}
    # Head-of-line order: while the oldest pending event waits for its retry, the later ones wait
    # too, so the platform always receives a record's changes in the order they happened.
    due = list(OutboxEvent.objects.filter(status=OutboxStatus.PENDING).order_by("created_at", "id")[:limit])
    for event in due:
        if event.next_attempt_at > now:
            break
        try:
            remote_id = adapter.deliver(envelope(event))
        except DeliveryError as exc:
            event.attempts += 1
            event.last_error = str(exc)[:1000]
            if not exc.retryable or event.attempts >= MAX_ATTEMPTS:
                event.status = OutboxStatus.DEAD
                result["dead"] += 1
            else:
                event.next_attempt_at = now + backoff(event.attempts)
                result["failed"] += 1
            event.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
            if exc.retryable:
                log.warning("provincial platform unavailable (%s); %d events wait", exc, len(due))
                break
            continue
        event.status = OutboxStatus.SENT
        event.sent_at = now
        event.remote_id = remote_id
        event.attempts += 1
        event.save(update_fields=["status", "sent_at", "remote_id", "attempts"])
        result["sent"] += 1
    return result


@transaction.atomic
def requeue(event: OutboxEvent) -> OutboxEvent:
    """Send a dead letter again (after the cause was fixed); the idempotency key is kept."""
    event.status = OutboxStatus.PENDING
    event.next_attempt_at = timezone.now()
    event.save(update_fields=["status", "next_attempt_at"])
    return event


def reconcile(
    *, day: date, region_code: str, adapter: ProvincialAdapter | None = None
) -> ReconciliationReport:
    """Compare the day's delivered events with the platform's ids; re-queue what it is missing."""
    adapter = adapter or ProvincialAdapter.from_environment()
    if adapter is None:
        raise DeliveryError("PINGANTONG_PROVINCE_URL is not configured", retryable=False)
    tz = timezone.get_default_timezone()
    start = datetime.combine(day, time.min, tzinfo=tz)
    delivered = {
        str(key): pk
        for key, pk in OutboxEvent.objects.filter(
            status=OutboxStatus.SENT,
            region__code__startswith=region_code[:6],
            sent_at__gte=start,
            sent_at__lt=start + timedelta(days=1),
        ).values_list("idempotency_key", "pk")
    }
    remote = adapter.acknowledged_ids(day=day, region_code=region_code)
    missing = sorted(set(delivered) - remote)
    unknown = sorted(remote - set(delivered))
    with transaction.atomic():
        OutboxEvent.objects.filter(pk__in=[delivered[k] for k in missing]).update(
            status=OutboxStatus.PENDING, next_attempt_at=timezone.now(), last_error="missing at the platform"
        )
        report, _created = ReconciliationReport.objects.update_or_create(
            region_id=region_code,
            day=day,
            defaults={
                "delivered": len(delivered),
                "acknowledged": len(remote),
                "missing_remote": missing,
                "unknown_remote": unknown,
                "requeued": len(missing),
            },
        )
    return report
