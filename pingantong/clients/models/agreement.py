"""The service catalogue (X1), service agreements (P2) and terminations (P4)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from pingantong.accounts.choices import ALL_ROLES, Role
from pingantong.core.access import AccessPolicy, RestrictedQuerySet

from ..choices import AgreementStatus, ItemKind, TerminationReason
from .client import Client


class ServiceItem(models.Model):
    """One item of the service list (S01–S28): public, so not region-restricted (X1)."""

    code = models.CharField(_("code"), max_length=4, primary_key=True)
    category = models.CharField(_("category"), max_length=20)
    name = models.CharField(pgettext_lazy("person's name", "name"), max_length=40)
    description = models.TextField(pgettext_lazy("text of an agreement", "content"))
    kind = models.CharField(_("type"), max_length=10, choices=ItemKind.choices)
    monthly_price = models.DecimalField(
        _("price per month (yuan)"),
        max_digits=8,
        decimal_places=2,
        default=Decimal("0"),
        help_text=_("Extended items only; basic items are covered by the government package."),
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("service item")
        verbose_name_plural = _("service items")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


AGREEMENT_WRITERS = frozenset({Role.AGENT, Role.SUPERVISOR, Role.AGENCY_ADMIN})


class Agreement(models.Model):
    """The service agreement with the client and family (P2): items, fees, rights and duties, risk
    sharing, dispute resolution, signature. The texts are copied in at drafting so a later change of
    the standard wording never alters a signed agreement."""

    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="agreements", verbose_name=_("client")
    )
    items = models.ManyToManyField(ServiceItem, related_name="+", verbose_name=_("items"))
    status = models.CharField(
        _("status"), max_length=10, choices=AgreementStatus.choices, default=AgreementStatus.DRAFT
    )
    basic_monthly_fee = models.DecimalField(
        _("basic package per month (government-paid)"),
        max_digits=8,
        decimal_places=2,
        default=Decimal("30.00"),
    )
    extended_monthly_fee = models.DecimalField(
        _("extended items per month (client-paid)"), max_digits=8, decimal_places=2, default=Decimal("0")
    )
    rights_and_duties = models.TextField(_("rights and duties"))
    risk_sharing = models.TextField(_("risk sharing"))
    dispute_resolution = models.TextField(_("dispute resolution"))
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    signed_by = models.CharField(_("signed by (client or family)"), max_length=50, blank=True)
    signer_relation = models.CharField(_("signer's relation to the client"), max_length=20, blank=True)
    agency_signatory = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    access_policy = AccessPolicy(
        region_field="client__region_id", view=ALL_ROLES, add=AGREEMENT_WRITERS, change=AGREEMENT_WRITERS
    )
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "-id"]
        verbose_name = _("service agreement")
        verbose_name_plural = _("service agreements")

    def __str__(self) -> str:
        return f"{self.client} · {self.starts_on}"


class Termination(models.Model):
    """The end of a client's service (P4): why, from when, who decided. Records are kept."""

    client = models.OneToOneField(Client, on_delete=models.PROTECT, related_name="termination")
    reason = models.CharField(_("reason"), max_length=20, choices=TerminationReason.choices)
    effective_date = models.DateField(_("effective from"))
    details = models.TextField(_("details"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    access_policy = AccessPolicy(
        region_field="client__region_id",
        view=ALL_ROLES,
        add=frozenset({Role.SUPERVISOR, Role.AGENCY_ADMIN, Role.TOWNSHIP, Role.DISTRICT}),
    )
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("termination")
        verbose_name_plural = _("terminations")

    def __str__(self) -> str:
        return f"{self.client} · {self.get_reason_display()} · {self.effective_date}"


__all__ = ["Agreement", "ServiceItem", "Termination"]
