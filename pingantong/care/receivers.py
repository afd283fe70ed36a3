"""Reactions to other apps' domain signals (connected in CareConfig.ready)."""

from __future__ import annotations

import logging

from django.utils import timezone

logger = logging.getLogger(__name__)

INTERVAL_FIELDS = {"call_interval_days", "visit_interval_days"}


def reschedule_on_frequency_change(sender, *, client, fields=(), **kwargs) -> None:
    """A client-confirmed frequency change (Q2) applies from then on: routine calls and visits not
    yet started move to the new rhythm at once, not at the next nightly run."""
    if INTERVAL_FIELDS.intersection(fields or ()):
        from .actions.schedule import schedule_care_work

        schedule_care_work(now=timezone.now(), client_ids=[client.pk])


def cancel_tasks_on_termination(sender, *, client, termination=None, **kwargs) -> None:
    """A terminated client (P4) gets no more calls or visits: active tasks are cancelled."""
    from .actions.tasks import cancel_task
    from .choices import ACTIVE_STATUSES
    from .models import Task

    for task in Task.objects.filter(client=client, status__in=ACTIVE_STATUSES):
        cancel_task(task=task, reason="Client's service terminated")


def connect() -> None:
    from pingantong.clients import signals

    signals.client_changed.connect(
        reschedule_on_frequency_change, dispatch_uid="care.reschedule_on_frequency"
    )
    signals.client_terminated.connect(cancel_tasks_on_termination, dispatch_uid="care.cancel_on_termination")
