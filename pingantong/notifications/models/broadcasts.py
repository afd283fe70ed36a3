"""Broadcasts (S13–S15, Q3) and the CAP weather warnings that start them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from pingantong.accounts.choices import Role
from pingantong.core.access import AccessPolicy, RestrictedQuerySet

from ..choices import BroadcastKind, BroadcastSource, BroadcastStatus, ChannelKind
from .messages import DEFAULT_REGION, READERS, Template

AUTHORS = frozenset(
    {Role.AGENT, Role.SUPERVISOR, Role.AGENCY_ADMIN, Role.SYSADMIN, Role.DISTRICT, Role.TOWNSHIP}
)
APPROVERS = frozenset({Role.SUPERVISOR, Role.AGENCY_ADMIN, Role.SYSADMIN, Role.DISTRICT})


class WeatherWarning(models.Model):
    """One CAP 1.2 / GB/T 35965 alert as received, with the areas (GB/T 2260 codes) it covers."""

    identifier = models.CharField(_("identifier"), max_length=200, unique=True)
    sender = models.CharField(_("sender"), max_length=200)
    sent = models.DateTimeField(_("sent"))
    msg_type = models.CharField(_("message type"), max_length=16)
    event = models.CharField(_("event"), max_length=100)
    severity = models.CharField(_("severity"), max_length=16)
    urgency = models.CharField(_("urgency"), max_length=16, blank=True)
    certainty = models.CharField(_("certainty"), max_length=16, blank=True)
    headline = models.CharField(_("headline"), max_length=300, blank=True)
    description = models.TextField(_("description"), blank=True)
    instruction = models.TextField(_("instruction"), blank=True)
    onset = models.DateTimeField(_("onset"), null=True, blank=True)
    expires = models.DateTimeField(_("expires"), null=True, blank=True)
    area_desc = models.CharField(_("area"), max_length=300, blank=True)
    geocodes = models.JSONField(_("area codes"), default=list)
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        default=DEFAULT_REGION,
        related_name="+",
        verbose_name=_("region"),
    )
    raw_xml = models.TextField(_("CAP XML"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    access_policy = AccessPolicy(region_field="region__code", view=READERS, add=AUTHORS, change=APPROVERS)

    class Meta:
        ordering = ["-sent"]
        verbose_name = _("weather warning")
        verbose_name_plural = _("weather warnings")

    def __str__(self) -> str:
        return self.headline or self.event


class Broadcast(models.Model):
    """One alert to many clients (and optionally their contacts) of an area: extreme weather,
    fraud or a policy notice. Nothing is sent before someone with an approver role approves it."""

    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=BroadcastKind.choices)
    source = models.CharField(
        _("source"), max_length=16, choices=BroadcastSource.choices, default=BroadcastSource.STAFF
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=BroadcastStatus.choices,
        default=BroadcastStatus.DRAFT,
        db_index=True,
    )
    channel = models.CharField(
        _("channel"), max_length=16, choices=ChannelKind.choices, default=ChannelKind.SMS
    )
    template = models.ForeignKey(
        Template, on_delete=models.PROTECT, related_name="broadcasts", verbose_name=_("template")
    )
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    explanation = models.TextField(_("plain-language explanation"), blank=True)
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("target region")
    )
    categories = models.JSONField(_("client categories"), default=list, blank=True)
    device_types = models.JSONField(_("device types"), default=list, blank=True)
    include_contacts = models.BooleanField(_("also contacts"), default=False)
    warning = models.ForeignKey(
        WeatherWarning, on_delete=models.SET_NULL, null=True, blank=True, related_name="broadcasts"
    )
    external_id = models.CharField(_("external reference"), max_length=200, blank=True)
    send_after = models.DateTimeField(_("send after"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(pgettext_lazy("broadcast sending", "started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    total = models.PositiveIntegerField(_("recipients"), default=0)
    processed = models.PositiveIntegerField(_("processed"), default=0)

    objects = RestrictedQuerySet.as_manager()
    access_policy = AccessPolicy(
        region_field="region__code",
        view=READERS | {Role.VILLAGE},
        add=AUTHORS,
        change=AUTHORS,
        delete=frozenset(),
        extra={"approve": APPROVERS},
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("broadcast")
        verbose_name_plural = _("broadcasts")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~models.Q(external_id=""),
                name="broadcast_unique_external_id",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def progress_pct(self) -> int:
        return 100 if not self.total else min(100, round(100 * self.processed / self.total))
