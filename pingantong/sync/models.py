"""The transactional outbox to the 福建省养老信息服务平台 (I2) and its reconciliation.

An `OutboxEvent` is written in the same database transaction as the change it reports, so a
change is never lost and never reported without having happened. A worker delivers pending events
in order with retries and backoff; events that keep failing go to the dead letter view.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from pingantong.accounts.choices import Role
from pingantong.core.access import AccessPolicy, RestrictedQuerySet

SYNC_VIEW = frozenset({Role.AGENCY_ADMIN, Role.SUPERVISOR, Role.DISTRICT, Role.AUDITOR, Role.SYSADMIN})
SYNC_ADMIN = frozenset({Role.AGENCY_ADMIN, Role.SYSADMIN})


class OutboxStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("outbox status", "Pending")
    SENT = "sent", _("Delivered")
    DEAD = "dead", _("Dead letter")


class OutboxEvent(models.Model):
    """One change the province must see, with the exact JSON that is (or was) sent."""

    access_policy = AccessPolicy(region_field="region_id", view=SYNC_VIEW, change=SYNC_ADMIN)

    idempotency_key = models.UUIDField(_("idempotency key"), default=uuid.uuid4, unique=True, editable=False)
    topic = models.CharField(_("topic"), max_length=40, db_index=True)
    object_type = models.CharField(_("record type"), max_length=40)
    object_id = models.CharField(_("record id"), max_length=40)
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    payload = models.JSONField(_("payload"))
    created_at = models.DateTimeField(_("created at"), db_index=True)
    status = models.CharField(
        _("status"), max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), db_index=True)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    remote_id = models.CharField(_("platform id"), max_length=64, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="sync_outbox_due")]

    def __str__(self) -> str:
        return f"{self.topic} {self.object_type}#{self.object_id}"


class ReconciliationReport(models.Model):
    """The daily comparison of what we delivered with what the platform says it holds."""

    access_policy = AccessPolicy(region_field="region_id", view=SYNC_VIEW)

    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    day = models.DateField(_("day"))
    delivered = models.PositiveIntegerField(_("delivered by us"), default=0)
    acknowledged = models.PositiveIntegerField(_("held by the platform"), default=0)
    missing_remote = models.JSONField(_("delivered but missing at the platform"), default=list)
    unknown_remote = models.JSONField(_("at the platform but unknown here"), default=list)
    requeued = models.PositiveIntegerField(_("re-queued"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("reconciliation report")
        verbose_name_plural = _("reconciliation reports")
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["region", "day"], name="sync_one_report_per_day")]

    def __str__(self) -> str:
        return f"{self.region_id} {self.day}"
