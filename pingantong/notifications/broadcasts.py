"""Broadcast actions (S13–S15, Q3): draft → approve → send in batches in the worker → report.

Sources: staff (fraud, policy), a CAP weather warning (an extreme warning for an area produces a
draft day-before reminder for review), and the anti-fraud channel's signed webhook. Nothing is
sent before approval. Each recipient's message has the idempotency key
`broadcast:<id>:<client|contact>:<pk>`, so a batch that runs twice sends nothing twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pingantong.core.access import user_may
from pingantong.regions.models import Region

from . import rules
from .cap import CapAlert, parse_cap, to_region_code
from .choices import (
    BroadcastKind,
    BroadcastSource,
    BroadcastStatus,
    ChannelKind,
    MessageStatus,
    Priority,
    Purpose,
)
from .models import Broadcast, Template, WeatherWarning

BATCH_SIZE = 500
PURPOSE_OF = {
    BroadcastKind.WEATHER: Purpose.WEATHER,
    BroadcastKind.FRAUD: Purpose.FRAUD,
    BroadcastKind.POLICY: Purpose.POLICY,
}
TEMPLATE_OF = {
    BroadcastKind.WEATHER: "weather_s13",
    BroadcastKind.FRAUD: "fraud_s14",
    BroadcastKind.POLICY: "policy_s15",
}
PER_RECIPIENT = {"name"}  # filled for each recipient: the client's name


def create_broadcast(
    *,
    kind: str,
    title: str,
    region: Region | str,
    params: dict[str, Any],
    template: Template | str | None = None,
    categories: list[str] | None = None,
    device_types: list[str] | None = None,
    include_contacts: bool = False,
    channel: str = ChannelKind.SMS,
    explanation: str = "",
    source: str = BroadcastSource.STAFF,
    external_id: str = "",
    warning: WeatherWarning | None = None,
    send_after: datetime | None = None,
    created_by: Any = None,
) -> Broadcast:
    """Record a draft broadcast; the text must render (every parameter but the recipient's name)."""
    if kind not in BroadcastKind.values:
        raise ValidationError(_("Unknown broadcast kind %(kind)s.") % {"kind": kind})
    code = template.code if isinstance(template, Template) else (template or TEMPLATE_OF[BroadcastKind(kind)])
    tpl = Template.objects.filter(code=code, active=True).first()
    if tpl is None:
        raise ValidationError(_("No active message template with code %(code)s.") % {"code": code})
    params = {k: str(v) for k, v in params.items()}
    missing = [n for n in rules.missing_params(tpl.text, params) if n not in PER_RECIPIENT]
    if missing:
        raise ValidationError(_("Missing template parameters: %(names)s") % {"names": ", ".join(missing)})
    region_id = region.pk if isinstance(region, Region) else str(region)
    if not Region.objects.filter(pk=region_id).exists():
        raise ValidationError(_("Unknown region %(code)s.") % {"code": region_id})
    broadcast = Broadcast(
        kind=kind,
        title=title[:200],
        template=tpl,
        params=params,
        region_id=region_id,
        categories=list(categories or []),
        device_types=list(device_types or []),
        include_contacts=include_contacts,
        channel=channel,
        explanation=explanation,
        source=source,
        external_id=external_id,
        warning=warning,
        send_after=send_after,
        created_by=created_by,
    )
    if created_by is not None and not user_may(created_by, "add", broadcast):
        raise PermissionDenied(_("You may not create broadcasts for this region."))
    broadcast.save()
    return broadcast


def _recipients(
    broadcast: Broadcast, offset: int = 0, limit: int | None = None
) -> list[tuple[str, Any, Any]]:
    """(key, client, contact-or-None) for the clients in [offset, offset+limit)."""
    from .selectors import broadcast_clients

    clients = broadcast_clients(broadcast)
    if broadcast.include_contacts:
        clients = clients.prefetch_related("contacts")
    chunk = clients[offset : offset + limit] if limit is not None else clients
    result = []
    for client in chunk:
        if client.phone:
            result.append((f"client:{client.pk}", client, None))
        if broadcast.include_contacts:
            result += [(f"contact:{c.pk}", client, c) for c in client.contacts.all() if c.phone]
    return result


def count_recipients(broadcast: Broadcast) -> int:
    from pingantong.clients.models import Contact

    from .selectors import broadcast_clients

    clients = broadcast_clients(broadcast)
    total = clients.exclude(phone="").count()
    if broadcast.include_contacts:
        total += Contact.objects.filter(client__in=clients).exclude(phone="").count()
    return total


def approve_broadcast(*, broadcast: Broadcast, user: Any, now: datetime | None = None) -> Broadcast:
    """Approve a draft; sending starts in the worker (at `send_after` when that is later)."""
    if not user_may(user, "approve", broadcast):
        raise PermissionDenied(_("You may not approve broadcasts for this region."))
    if broadcast.status != BroadcastStatus.DRAFT:
        raise ValidationError(_("Only a draft broadcast can be approved."))
    now = now or timezone.now()
    with transaction.atomic():
        broadcast.status = BroadcastStatus.APPROVED
        broadcast.approved_by = user
        broadcast.approved_at = now
        broadcast.total = count_recipients(broadcast)
        broadcast.save(update_fields=["status", "approved_by", "approved_at", "total"])
        eta = broadcast.send_after if broadcast.send_after and broadcast.send_after > now else None
        transaction.on_commit(lambda: _schedule_start(broadcast.pk, eta))
    return broadcast


def _schedule_start(broadcast_id: int, eta: datetime | None) -> None:
    from .tasks import send_broadcast_batch_task

    if eta is not None:
        send_broadcast_batch_task.schedule((broadcast_id, 0), eta=eta)
    else:
        send_broadcast_batch_task(broadcast_id, 0)


def cancel_broadcast(*, broadcast: Broadcast, user: Any) -> Broadcast:
    if not user_may(user, "change", broadcast):
        raise PermissionDenied
    if broadcast.status not in {BroadcastStatus.DRAFT, BroadcastStatus.APPROVED}:
        raise ValidationError(_("A broadcast that is sending or sent cannot be cancelled."))
    broadcast.status = BroadcastStatus.CANCELLED
    broadcast.save(update_fields=["status"])
    return broadcast


def send_broadcast_batch(
    *, broadcast_id: int, offset: int, batch_size: int = BATCH_SIZE, chain: bool = True
) -> int:
    """Send to the clients [offset, offset+batch_size) and queue the next batch; returns how many
    messages this batch handled. Runs in the worker, never in a web request."""
    broadcast = Broadcast.objects.select_related("template").get(pk=broadcast_id)
    if broadcast.status not in {BroadcastStatus.APPROVED, BroadcastStatus.SENDING}:
        return 0
    if broadcast.status == BroadcastStatus.APPROVED:
        broadcast.status = BroadcastStatus.SENDING
        broadcast.started_at = timezone.now()
        broadcast.save(update_fields=["status", "started_at"])
    recipients = _recipients(broadcast, offset, batch_size)
    handled = send_many(broadcast=broadcast, recipients=recipients)
    refresh_progress(broadcast_id=broadcast.pk)
    if len({r[1].pk for r in recipients}) >= batch_size:
        if chain:
            from .tasks import send_broadcast_batch_task

            send_broadcast_batch_task(broadcast.pk, offset + batch_size)
    else:
        Broadcast.objects.filter(pk=broadcast.pk, status=BroadcastStatus.SENDING).update(
            status=BroadcastStatus.DONE, finished_at=timezone.now()
        )
    return handled


def send_many(*, broadcast: Broadcast, recipients: list[tuple[str, Any, Any]]) -> int:
    """Record the batch's messages in one insert and deliver them as one claim; a key already
    used (the batch ran before) is skipped, so nothing is sent twice."""
    from .actions import RecipientHistory, build_message, deliver_many, history_of
    from .models import Message, RecipientPreference
    from .tasks import deliver_message_task

    keyed = {f"broadcast:{broadcast.pk}:{key}": (client, contact) for key, client, contact in recipients}
    done = set(
        Message.objects.filter(idempotency_key__in=list(keyed)).values_list("idempotency_key", flat=True)
    )
    now = timezone.now()
    phones = {(contact or client).phone for key, (client, contact) in keyed.items() if key not in done}
    prefs = {p.recipient: p for p in RecipientPreference.objects.filter(recipient__in=phones)}
    history = history_of(phones, now)
    purpose = PURPOSE_OF[BroadcastKind(broadcast.kind)]
    messages = []
    for key, (client, contact) in keyed.items():
        if key in done:
            continue
        person = contact or client
        message = build_message(
            recipient=person.phone,
            template=broadcast.template,
            params={"name": client.name, **broadcast.params},
            channel=broadcast.channel,
            purpose=purpose,
            priority=Priority.NORMAL,
            idempotency_key=key,
            pref=prefs.get(person.phone),
            history=history.get(person.phone, RecipientHistory()),
            now=now,
            client=client,
            contact=contact,
            related=f"broadcast:{broadcast.pk}",
            recipient_name=person.name,
            broadcast=broadcast,
        )
        messages.append(message)
    created = Message.objects.bulk_create(messages, batch_size=500)
    if not all(m.pk for m in created):  # a backend without RETURNING: read the ids back
        created = list(Message.objects.filter(idempotency_key__in=[m.idempotency_key for m in messages]))
    due = [m.pk for m in created if m.status == MessageStatus.QUEUED and m.not_before is None]
    for message in created:
        if message.status == MessageStatus.QUEUED and message.not_before is not None:
            deliver_message_task.schedule((message.pk,), eta=message.not_before)
    for pk, outcome in deliver_many(message_ids=due, now=now).items():
        if outcome.retry_at is not None and outcome.status == MessageStatus.QUEUED:
            deliver_message_task.schedule((pk,), eta=outcome.retry_at)
    return len(created)


def refresh_progress(*, broadcast_id: int) -> None:
    """Store how many of the broadcast's messages have left the queue (for the progress bar)."""
    processed = Broadcast.objects.get(pk=broadcast_id).messages.exclude(status=MessageStatus.QUEUED).count()
    Broadcast.objects.filter(pk=broadcast_id).update(processed=processed)


# --- sources -------------------------------------------------------------------------------------


def _region_for(geocode: str) -> str | None:
    """The deepest known division that a GB/T 2260 code names (or that contains our regions)."""
    code = to_region_code(geocode)
    if Region.objects.filter(pk=code).exists():
        return code
    return None


def import_weather_warning(
    *, data: bytes | str, created_by: Any = None, now: datetime | None = None
) -> tuple[WeatherWarning, list[Broadcast]]:
    """Store a CAP alert and, when it is extreme, draft the day-before reminder (S13) for each of
    its areas that we serve. Raises CapError (with the reason) for a malformed file."""
    alert: CapAlert = parse_cap(data)
    now = now or timezone.now()
    regions = [code for code in (_region_for(g) for g in alert.geocodes) if code]
    raw = data.decode() if isinstance(data, bytes) else data
    with transaction.atomic():
        warning, created = WeatherWarning.objects.get_or_create(
            identifier=alert.identifier,
            defaults=dict(  # noqa: C408
                sender=alert.sender,
                sent=alert.sent,
                msg_type=alert.msg_type,
                event=alert.event,
                severity=alert.severity,
                urgency=alert.urgency,
                certainty=alert.certainty,
                headline=alert.headline[:300],
                description=alert.description,
                instruction=alert.instruction,
                onset=alert.onset,
                expires=alert.expires,
                area_desc=alert.area_desc[:300],
                geocodes=alert.geocodes,
                region_id=min(regions, key=len) if regions else "350404000000",
                raw_xml=raw,
            ),
        )
        if not created or not alert.is_extreme:
            return warning, []
        onset = alert.onset or alert.sent
        send_after = max(now, onset - timedelta(days=1))
        local_onset = onset.astimezone(rules.LOCAL)
        broadcasts = []
        for region_code in sorted(set(regions)):
            region = Region.objects.get(pk=region_code)
            broadcasts.append(
                create_broadcast(
                    kind=BroadcastKind.WEATHER,
                    title=alert.headline or alert.event,
                    region=region,
                    params={
                        "area": region.short_name or region.name,
                        "event": alert.event,
                        "time": local_onset.strftime("%m月%d日%H时"),
                        "advice": (alert.instruction or _("stay indoors and keep your phone on"))[:60],
                    },
                    source=BroadcastSource.CAP,
                    external_id=f"{alert.identifier}:{region_code}",
                    warning=warning,
                    send_after=send_after,
                    created_by=None,
                )
            )
    return warning, broadcasts


def receive_fraud_alert(*, payload: dict[str, Any]) -> Broadcast:
    """A fraud alert from the anti-fraud channel's signed webhook: a draft for the client and contacts."""
    external_id = str(payload.get("id", "")).strip()
    region = str(payload.get("region_code", "")).strip()
    summary = str(payload.get("summary", "")).strip()
    if not external_id or not region or not summary:
        raise ValidationError(_("A fraud alert needs id, region_code and summary."))
    existing = Broadcast.objects.filter(source=BroadcastSource.WEBHOOK, external_id=external_id).first()
    if existing is not None:
        return existing
    return create_broadcast(
        kind=BroadcastKind.FRAUD,
        title=str(payload.get("title", summary))[:200],
        region=to_region_code(region),
        params={"summary": summary[:100]},
        include_contacts=bool(payload.get("include_contacts", True)),
        categories=list(payload.get("categories") or []),
        source=BroadcastSource.WEBHOOK,
        external_id=external_id,
    )
