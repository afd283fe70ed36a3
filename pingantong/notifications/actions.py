"""Sending notifications: the one way every app sends SMS, voice calls, WeChat and webhooks.

`send_notification` records the message (queued) in one transaction and delivers it after commit
through a Huey task; `deliver_message` claims the message with a conditional UPDATE before it
calls the provider, so a job that runs twice (a Huey retry, two workers) calls the provider once.
Receipts and keypresses arrive through `apply_receipt`; "sent is not delivered, delivered is not
acknowledged": only an answer from the person (a key pressed, a reply) sets `acknowledged_at`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import rules
from .channels import registry
from .channels.base import Receipt
from .choices import ChannelKind, MessageStatus, Priority, Purpose
from .models import Message, RecipientPreference, Template
from .models.messages import DEFAULT_REGION

logger = logging.getLogger(__name__)


def _template(template: Template | str) -> Template:
    if isinstance(template, Template):
        return template
    found = Template.objects.filter(code=template, active=True).first()
    if found is None:
        raise ValidationError(_("No active message template with code %(code)s.") % {"code": template})
    return found


def _preference(recipient: str) -> RecipientPreference | None:
    return RecipientPreference.objects.filter(recipient=recipient).first()


def _cannot_read(pref: RecipientPreference | None, *people: Any) -> bool:
    return bool(pref and pref.cannot_read) or any(getattr(p, "cannot_read", False) for p in people if p)


def _default_quiet() -> tuple[time | None, time | None]:
    value = getattr(settings, "NOTIFICATIONS_DEFAULT_QUIET_HOURS", "")
    if not value:
        return None, None
    start, end = (time.fromisoformat(part.strip()) for part in value.split("-", 1))
    return start, end


def _quiet_hours(
    pref: RecipientPreference | None, client: Any, contact: Any
) -> tuple[time | None, time | None]:
    """The recipient's own preference first; then what the clients app records: a contact's
    availability window (quiet outside it), the client's quiet hours; then the deployment default."""
    if pref and pref.quiet_start and pref.quiet_end:
        return pref.quiet_start, pref.quiet_end
    if contact is not None:
        start, end = getattr(contact, "available_until", None), getattr(contact, "available_from", None)
        if start and end:
            return start, end
    elif client is not None:
        start, end = getattr(client, "quiet_hours_start", None), getattr(client, "quiet_hours_end", None)
        if start and end:
            return start, end
    return _default_quiet()


def _link_fields(client: Any, contact: Any) -> dict[str, Any]:
    """Client and contact foreign keys, where the clients app provides them."""
    names = {f.name for f in Message._meta.get_fields()}
    fields: dict[str, Any] = {}
    if client is not None and "client" in names:
        fields["client"] = client
    if contact is not None and "contact" in names:
        fields["contact"] = contact
    return fields


@dataclass(frozen=True)
class RecipientHistory:
    """What the rate limit and deduplication need to know of a recipient's last hour."""

    count_last_hour: int = 0
    recent_hashes: frozenset[str] = frozenset()


def history_of(recipients: set[str], now: datetime) -> dict[str, RecipientHistory]:
    rows = (
        Message.objects.filter(recipient__in=recipients, queued_at__gte=now - timedelta(hours=1))
        .exclude(status=MessageStatus.SUPPRESSED)
        .values_list("recipient", "content_hash", "queued_at")
    )
    counts: dict[str, int] = {}
    hashes: dict[str, set[str]] = {}
    for recipient, digest, queued_at in rows:
        counts[recipient] = counts.get(recipient, 0) + 1
        if queued_at >= now - rules.DEDUP_WINDOW:
            hashes.setdefault(recipient, set()).add(digest)
    return {r: RecipientHistory(counts.get(r, 0), frozenset(hashes.get(r, ()))) for r in recipients}


def build_message(
    *,
    recipient: str,
    template: Template,
    params: dict[str, Any],
    channel: str,
    purpose: str,
    priority: str,
    idempotency_key: str,
    pref: RecipientPreference | None,
    history: RecipientHistory,
    now: datetime,
    client: Any = None,
    contact: Any = None,
    related: str | None = None,
    recipient_name: str = "",
    region_id: str | None = None,
    require_ack: bool = False,
    broadcast: Any = None,
    created_by: Any = None,
) -> Message:
    """An unsaved message with the sending rules applied: voice for people who cannot read, and
    for normal priority deduplication, the per-recipient rate limit and quiet hours."""
    recipient = (recipient or "").strip()
    if not recipient:
        raise ValidationError(_("The message has no recipient."))
    if channel not in ChannelKind.values:
        raise ValidationError(_("Unknown channel %(channel)s.") % {"channel": channel})
    params = {k: str(v) for k, v in (params or {}).items()}
    text = rules.render(template.text, params)
    if channel == ChannelKind.SMS and _cannot_read(pref, contact, client if contact is None else None):
        channel = ChannelKind.VOICE  # S01/S23: people who cannot read are called instead
    if channel == ChannelKind.VOICE:
        require_ack = True
    digest = rules.content_hash(
        recipient=recipient, channel=channel, template_code=template.code, params=params
    )
    region = (
        region_id
        or getattr(client, "region_id", None)
        or getattr(broadcast, "region_id", None)
        or DEFAULT_REGION
    )
    status, failure_code, not_before = MessageStatus.QUEUED, "", None
    if priority != Priority.EMERGENCY:
        if digest in history.recent_hashes:
            status, failure_code = MessageStatus.SUPPRESSED, "duplicate"
        elif history.count_last_hour >= (pref.max_per_hour if pref else rules.DEFAULT_MAX_PER_HOUR):
            status, failure_code = MessageStatus.SUPPRESSED, "rate_limited"
        else:
            start, end = _quiet_hours(pref, client, contact)
            not_before = rules.quiet_until(now, start, end)
    return Message(
        idempotency_key=idempotency_key,
        channel=channel,
        provider=registry.provider_for(channel),
        status=status,
        priority=priority,
        purpose=purpose,
        template=template,
        template_code=template.code,
        params=params,
        text=text,
        recipient=recipient,
        recipient_name=recipient_name or getattr(contact, "name", "") or "",
        region_id=region,
        related=related or "",
        broadcast=broadcast,
        require_ack=require_ack,
        content_hash=digest,
        failure_code=failure_code,
        not_before=not_before,
        next_attempt_at=not_before,
        failed_at=now if status == MessageStatus.SUPPRESSED else None,
        created_by=created_by,
        **_link_fields(client, contact),
    )


def send_notification(
    *,
    recipient: str,
    template: Template | str,
    params: dict[str, Any],
    channel: str = ChannelKind.SMS,
    purpose: str = Purpose.OTHER,
    priority: str = Priority.NORMAL,
    idempotency_key: str,
    client: Any = None,
    contact: Any = None,
    related: str | None = None,
    recipient_name: str = "",
    region_id: str | None = None,
    require_ack: bool = False,
    broadcast: Any = None,
    created_by: Any = None,
    now: datetime | None = None,
    enqueue: bool = True,
) -> Message:
    """Queue one message and deliver it after commit; the same idempotency key returns the same
    message and sends nothing again."""
    existing = Message.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    now = now or timezone.now()
    recipient = (recipient or "").strip()
    message = build_message(
        recipient=recipient,
        template=_template(template),
        params=params,
        channel=channel,
        purpose=purpose,
        priority=priority,
        idempotency_key=idempotency_key,
        pref=_preference(recipient),
        history=history_of({recipient}, now)[recipient] if recipient else RecipientHistory(),
        now=now,
        client=client,
        contact=contact,
        related=related,
        recipient_name=recipient_name,
        region_id=region_id,
        require_ack=require_ack,
        broadcast=broadcast,
        created_by=created_by,
    )
    with transaction.atomic():
        message.save(force_insert=True)
        if message.status == MessageStatus.QUEUED and enqueue:
            not_before = message.not_before
            transaction.on_commit(lambda: _enqueue(message.pk, not_before))
    return message


def _enqueue(message_id: int, eta: datetime | None) -> None:
    from .tasks import deliver_message_task

    if eta is not None:
        deliver_message_task.schedule((message_id,), eta=eta)
    else:
        deliver_message_task(message_id)


def _voice_fallback(message: Message) -> Message | None:
    """An emergency SMS that definitively failed becomes a voice call to the same number (the
    template's `<code>_voice` variant when there is one), so a contact is still reached."""
    if not (
        message.status == MessageStatus.FAILED
        and message.channel == ChannelKind.SMS
        and message.priority == Priority.EMERGENCY
        and message.template_id
    ):
        return None
    voice = Template.objects.filter(code=f"{message.template_code}_voice", active=True).first()
    tpl = voice or message.template
    assert tpl is not None
    params = {k: v for k, v in message.params.items() if k in tpl.param_names}
    fallback = send_notification(
        recipient=message.recipient,
        template=tpl,
        params=params,
        channel=ChannelKind.VOICE,
        purpose=message.purpose,
        priority=message.priority,
        idempotency_key=f"{message.idempotency_key}:voice",
        client=message.client,
        contact=message.contact,
        related=message.related,
        recipient_name=message.recipient_name,
        region_id=message.region_id,
        require_ack=True,
    )
    if fallback.fallback_of_id is None:
        Message.objects.filter(pk=fallback.pk).update(fallback_of=message)
    return fallback


def _after_change(message: Message) -> None:
    """Tell listeners after commit (broadcast progress is counted in batches, not per message)."""
    from .signals import message_changed

    _voice_fallback(message)

    status = message.status
    transaction.on_commit(lambda: message_changed.send(sender=Message, message=message, status=status))


def _find(receipt: Receipt, provider: str | None) -> Message | None:
    qs = Message.objects.all()
    if receipt.provider_message_id:
        found = qs.filter(provider_message_id=receipt.provider_message_id)
        if provider:
            found = found.filter(provider__startswith=provider.split("_")[0])
        if (message := found.order_by("-id").first()) is not None:
            return message
    if receipt.idempotency_key:
        return qs.filter(idempotency_key=receipt.idempotency_key).first()
    return None


def apply_receipt(*, receipt: Receipt, provider: str | None = None) -> Message | None:
    """Apply a delivery report or keypress to its message; unknown ids are ignored (None)."""
    message = _find(receipt, provider)
    if message is None:
        logger.info("receipt for unknown message %s/%s", receipt.provider_message_id, receipt.idempotency_key)
        return None
    at = receipt.at or timezone.now()
    fields: list[str] = []
    if receipt.delivered is True and message.delivered_at is None:
        message.delivered_at = at
        if message.status in {MessageStatus.QUEUED, MessageStatus.SENT}:
            message.status = MessageStatus.DELIVERED
        fields += ["delivered_at", "status"]
    elif receipt.delivered is False and message.status in {MessageStatus.QUEUED, MessageStatus.SENT}:
        message.status = MessageStatus.FAILED
        message.failed_at = at
        message.failure_code = (receipt.code or "undelivered")[:100]
        message.failure_detail = receipt.detail[:500]
        fields += ["status", "failed_at", "failure_code", "failure_detail"]
    if receipt.answer:
        fields += _acknowledge(message, receipt.answer, at)
    if fields:
        message.save(update_fields=sorted(set(fields)))
        _after_change(message)
    return message


def _acknowledge(message: Message, answer: str, at: datetime) -> list[str]:
    if message.acknowledged_at is not None:
        return []
    message.acknowledged_at = at
    message.ack_result = answer[:100]
    message.status = MessageStatus.ACKNOWLEDGED
    if message.delivered_at is None:
        message.delivered_at = at  # an answer proves delivery
    return ["acknowledged_at", "ack_result", "status", "delivered_at"]


def acknowledge_message(*, message: Message, answer: str = "1", now: datetime | None = None) -> Message:
    """The person answered (development channel: a person pressed the key in the UI)."""
    message.refresh_from_db()
    if message.status in {MessageStatus.FAILED, MessageStatus.SUPPRESSED}:
        raise ValidationError(_("A message that was not delivered cannot be acknowledged."))
    if message.status == MessageStatus.QUEUED:
        raise ValidationError(_("The message has not been sent yet."))
    fields = _acknowledge(message, answer, now or timezone.now())
    if fields:
        message.save(update_fields=fields)
        _after_change(message)
    return message


# Delivery lives in delivery.py; these names stay importable from here for the other apps.
from .delivery import (  # noqa: E402
    CLAIM_SECONDS,
    DeliveryOutcome,
    deliver_many,
    deliver_message,
)

__all__ = [
    "CLAIM_SECONDS",
    "DeliveryOutcome",
    "acknowledge_message",
    "apply_receipt",
    "build_message",
    "deliver_many",
    "deliver_message",
    "history_of",
    "send_notification",
]
