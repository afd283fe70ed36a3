"""The contact cascade (S01, S08): alert the client's contacts one after another, through the
notification channels, until one of them *acknowledges* (answers and presses a key, or replies).

"Sent" is not "delivered" and "delivered" is not "acknowledged" (DOMAIN.md): the next contact is
tried when the current one has not acknowledged within `PINGANTONG_CASCADE_ACK_SECONDS` (default
120 s), or at once when the message failed. A special-difficulty client's street-designated contact
is informed at the start as well. The location link goes only to contacts of a client who consented
to location sharing (S08, X2). Every transmission, delivery, acknowledgement and failure is an
`AlarmStep` (S01 "every transmission is recorded").

The cascade starts when an agent claims the alarm or when it escalates unclaimed; it is advanced by
`advance_due()`, which the alarm supervision calls every few seconds.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .choices import AlarmStatus, AlarmType, StepKind
from .models import Alarm, ContactAttempt

log = logging.getLogger(__name__)
State = ContactAttempt.State

# Alarm type → (message template, notification purpose).
TEMPLATES: dict[str, tuple[str, str]] = {
    AlarmType.GEOFENCE_EXIT: ("geofence_s10", "geofence"),
    AlarmType.VITAL_ABNORMAL: ("vitals_s23", "vitals"),
    AlarmType.NO_ACTIVITY: ("behaviour_s26", "behaviour"),
    AlarmType.OTHER: ("behaviour_s26", "behaviour"),
}
DEFAULT_TEMPLATE = ("sos_contact", "sos")


def ack_seconds(region_code: str | None = None) -> int:
    """How long a contact has to acknowledge: the region's alarm-centre settings, else
    `PINGANTONG_CASCADE_ACK_SECONDS` (120)."""
    from .centre import settings_for

    return settings_for(region_code).cascade_ack_seconds


def location_link(alarm: Alarm) -> str:
    """A map link to the alarm's position, where the client consented to sharing it (S08)."""
    if alarm.latitude is None or alarm.longitude is None or alarm.client_id is None:
        return ""
    from pingantong.clients.selectors import has_consent

    if not has_consent(alarm.client_id, "location_share"):
        return ""
    try:
        from pingantong.notifications.location import share_url
    except ImportError:  # the notifications app's signed share page is not there: a plain map link
        pass
    else:
        return share_url(client=alarm.client, minutes=60)
    template = str(
        getattr(settings, "PINGANTONG_LOCATION_LINK", "https://uri.amap.com/marker?position={lon},{lat}")
    )
    try:
        import prcoords

        lat, lon = prcoords.wgs_gcj((alarm.latitude, alarm.longitude))  # AMap wants GCJ-02
    except Exception:
        lat, lon = alarm.latitude, alarm.longitude
    return template.format(lat=round(lat, 6), lon=round(lon, 6))


def _params(alarm: Alarm) -> dict[str, str]:
    from zoneinfo import ZoneInfo

    local = alarm.raised_at.astimezone(ZoneInfo("Asia/Shanghai"))
    link = location_link(alarm)
    return {
        "name": alarm.client.name if alarm.client else "",
        "time": local.strftime("%m-%d %H:%M"),
        "link": link or "（未授权共享位置）",
        "vital": alarm.detail,
        "value": alarm.detail,
        "situation": alarm.detail or alarm.get_alarm_type_display(),
        "minutes": "60",
    }


def _is_special_difficulty(client: Any) -> bool:
    return bool(getattr(client, "categories", None))


def _send(alarm: Alarm, contact: Any, order: int, *, street: bool = False) -> ContactAttempt:
    from pingantong.notifications.contacts import send_to_contact

    template, purpose = TEMPLATES.get(alarm.alarm_type, DEFAULT_TEMPLATE)
    now = timezone.now()
    attempt = ContactAttempt.objects.create(
        alarm=alarm,
        contact=contact,
        order=order,
        street_designated=street,
        sent_at=now,
        ack_deadline=now + timedelta(seconds=ack_seconds(alarm.region_id)),
    )
    from .actions import record_step

    try:
        message = send_to_contact(
            contact,
            template=template,
            params=_params(alarm),
            purpose=purpose,
            related=f"alarm:{alarm.pk}",
            require_ack=True,
            attempt=attempt.pk,
        )
    except Exception as exc:
        log.warning("alarm %s: sending to contact %s failed: %s", alarm.pk, contact.pk, exc)
        attempt.state, attempt.finished_at = State.FAILED, now
        attempt.save(update_fields=["state", "finished_at"])
        record_step(
            alarm=alarm,
            kind=StepKind.NOTIFICATION_FAILED,
            actor_label="cascade",
            note=f"{contact.name}: {exc}",
            data={"contact": contact.name, "contact_id": contact.pk},
        )
        return attempt
    attempt.message = message
    attempt.save(update_fields=["message"])
    record_step(
        alarm=alarm,
        kind=StepKind.NOTIFICATION_SENT,
        actor_label="cascade",
        note=f"{contact.name} ({contact.get_relation_display()})",
        data={
            "contact": contact.name,
            "contact_id": contact.pk,
            "message_id": message.pk,
            "channel": message.channel,
            "order": order,
            "street_designated": street,
            "location_shared": "http" in _params(alarm)["link"],
        },
    )
    return attempt


def start_cascade(*, alarm_id: int) -> int:
    """Alert the first contact (and a special-difficulty client's street-designated contact).
    Idempotent: an alarm whose cascade has begun is left alone. Returns the messages sent."""
    from pingantong.clients.selectors import contacts_in_order

    with transaction.atomic():
        alarm = (
            Alarm.objects.select_for_update(of=("self",)).select_related("client").filter(pk=alarm_id).first()
        )
        if alarm is None or alarm.client is None or alarm.status == AlarmStatus.CLOSED:
            return 0
        if ContactAttempt.objects.filter(alarm=alarm).exists():
            return 0
        contacts = contacts_in_order(alarm.client)
        if not contacts:
            from .actions import record_step

            record_step(
                alarm=alarm,
                kind=StepKind.CASCADE_EXHAUSTED,
                actor_label="cascade",
                note="no contacts recorded",
            )
            return 0
        sent = 0
        chain = [c for c in contacts if not c.is_street_designated] or contacts
        _send(alarm, chain[0], 1)
        sent += 1
        if _is_special_difficulty(alarm.client):
            for contact in contacts:
                if contact.is_street_designated and contact not in chain[:1]:
                    attempt = _send(alarm, contact, 0, street=True)
                    if attempt.state == State.WAITING:
                        attempt.state = State.INFORMED
                        attempt.save(update_fields=["state"])
                    sent += 1
        return sent


def _next_contact(alarm: Alarm) -> tuple[Any, int] | None:
    from pingantong.clients.selectors import contacts_in_order

    tried = set(ContactAttempt.objects.filter(alarm=alarm).values_list("contact_id", flat=True))
    chain_orders = ContactAttempt.objects.filter(alarm=alarm, street_designated=False).values_list(
        "order", flat=True
    )
    order = max(chain_orders, default=0) + 1
    for contact in contacts_in_order(alarm.client):  # type: ignore[arg-type]
        if contact.pk not in tried and not contact.is_street_designated:
            return contact, order
    return None


def _record_progress(attempt: ContactAttempt) -> None:
    """Delivery and acknowledgement of the attempt's message, as the notifications app knows them."""
    from .actions import record_step

    message = attempt.message
    if message is None:
        return
    name = attempt.contact.name if attempt.contact else "?"
    if message.delivered_at is not None and not attempt.delivered_recorded:
        attempt.delivered_recorded = True
        attempt.save(update_fields=["delivered_recorded"])
        record_step(
            alarm=attempt.alarm,
            kind=StepKind.NOTIFICATION_DELIVERED,
            actor_label="cascade",
            note=name,
            at=message.delivered_at,
            data={"contact": name, "message_id": message.pk},
        )


def _transition(attempt: ContactAttempt, state: str, now: Any) -> bool:
    """Move an attempt out of its waiting state exactly once, even with two supervisors running
    (the web process's and the worker's): a conditional UPDATE decides."""
    won = ContactAttempt.objects.filter(pk=attempt.pk, state=attempt.state).update(
        state=state, finished_at=now
    )
    if won:
        attempt.state, attempt.finished_at = state, now
    return bool(won)


def advance_due(now: Any = None) -> int:
    """Move every waiting cascade on: acknowledged → done; failed or past its deadline → next
    contact; nobody left → `cascade_exhausted` (the agent must act: visit, 110). Returns changes."""
    from .actions import record_step

    now = now or timezone.now()
    changed = 0
    waiting = ContactAttempt.objects.filter(state__in=[State.WAITING, State.INFORMED]).select_related(
        "alarm", "message", "contact"
    )
    for attempt in list(waiting[:500]):
        with transaction.atomic():
            _record_progress(attempt)
            message = attempt.message
            name = attempt.contact.name if attempt.contact else "?"
            if message is not None and message.acknowledged_at is not None:
                if not _transition(attempt, State.ACKNOWLEDGED, now):
                    continue
                record_step(
                    alarm=attempt.alarm,
                    kind=StepKind.NOTIFICATION_ACKNOWLEDGED,
                    actor_label="cascade",
                    note=name,
                    at=message.acknowledged_at,
                    data={"contact": name, "message_id": message.pk, "answer": message.ack_result},
                )
                ContactAttempt.objects.filter(alarm=attempt.alarm, state=State.WAITING).exclude(
                    pk=attempt.pk
                ).update(state=State.STOPPED, finished_at=now)
                changed += 1
                continue
            if attempt.state == State.INFORMED:
                continue
            failed = message is not None and message.status in ("failed", "suppressed")
            if not failed and attempt.ack_deadline > now:
                continue
            if not _transition(attempt, State.FAILED if failed else State.TIMED_OUT, now):
                continue  # another process (web supervision or the worker) moved it first
            record_step(
                alarm=attempt.alarm,
                kind=StepKind.NOTIFICATION_FAILED,
                actor_label="cascade",
                note=name,
                data={"contact": name, "reason": "failed" if failed else "not acknowledged in time"},
            )
            changed += 1
            if attempt.alarm.status == AlarmStatus.CLOSED:
                continue
            nxt = _next_contact(attempt.alarm)
            if nxt is None:
                record_step(
                    alarm=attempt.alarm,
                    kind=StepKind.CASCADE_EXHAUSTED,
                    actor_label="cascade",
                    note="no contact acknowledged",
                )
            else:
                _send(attempt.alarm, nxt[0], nxt[1])
    return changed


def stop_cascade(*, alarm: Alarm) -> None:
    """The alarm is closed: wait for nobody any more."""
    ContactAttempt.objects.filter(alarm=alarm, state=State.WAITING).update(
        state=State.STOPPED, finished_at=timezone.now()
    )
