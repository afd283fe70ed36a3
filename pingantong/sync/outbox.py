"""Writing outbox events in the transaction of the change (I2), and which changes are covered.

Covered: clients (created/changed, enrolment, termination), alarms once closed with their outcome,
answered care calls and completed visits. Only for clients whose provincial-sync consent (X2) is
recorded; a withdrawal stops further events at once.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone

from . import mapping
from .models import OutboxEvent


def record_change(*, topic: str, obj, payload: dict, region_code: str) -> OutboxEvent | None:
    """Add an event to the outbox inside the current transaction (callers are in one already)."""
    now = timezone.now()
    return OutboxEvent.objects.create(
        topic=topic,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        region_id=region_code,
        payload=payload,
        created_at=now,
        next_attempt_at=now,
    )


def _consented(client) -> bool:
    from pingantong.clients.selectors import has_consent

    return client is not None and has_consent(client, "provincial_sync")


def on_client_saved(sender, instance, created, **kwargs) -> None:
    if kwargs.get("raw") or not _consented(instance):
        return
    topic = (
        "client.terminated"
        if instance.status == "terminated"
        else ("client.created" if created else "client.updated")
    )
    record_change(
        topic=topic, obj=instance, payload=mapping.client_payload(instance), region_code=instance.region_id
    )


def on_alarm_saved(sender, instance, created, **kwargs) -> None:
    if kwargs.get("raw") or instance.status != "closed" or not instance.outcome:
        return
    if instance.client_id is None or not _consented(instance.client):
        return
    if OutboxEvent.objects.filter(topic="alarm.closed", object_id=str(instance.pk)).exists():
        return
    record_change(
        topic="alarm.closed",
        obj=instance,
        payload=mapping.alarm_payload(instance),
        region_code=instance.region_id,
    )


def on_care_call_saved(sender, instance, created, **kwargs) -> None:
    if kwargs.get("raw") or not created or not _consented(instance.client):
        return
    record_change(
        topic="care.call",
        obj=instance,
        payload=mapping.care_call_payload(instance),
        region_code=instance.region_id,
    )


def on_visit_saved(sender, instance, created, **kwargs) -> None:
    if kwargs.get("raw") or instance.completed_at is None or not _consented(instance.client):
        return
    if OutboxEvent.objects.filter(topic="care.visit", object_id=str(instance.pk)).exists():
        return
    record_change(
        topic="care.visit",
        obj=instance,
        payload=mapping.visit_payload(instance),
        region_code=instance.region_id,
    )


def connect() -> None:
    from pingantong.alarms.models import Alarm
    from pingantong.care.models import CareCall, Visit
    from pingantong.clients.models import Client

    for model, handler in (
        (Client, on_client_saved),
        (Alarm, on_alarm_saved),
        (CareCall, on_care_call_saved),
        (Visit, on_visit_saved),
    ):
        post_save.connect(handler, sender=model, dispatch_uid=f"sync-outbox-{model._meta.label_lower}")


__all__ = ["connect", "record_change", "transaction"]
