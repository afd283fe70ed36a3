"""What a device costs the client under the subsidy rules (F2), decided when it is assigned."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from pingantong.core.access import RestrictedQuerySet

from ..choices import ChargeKind
from .policies import CHARGE_POLICY


class Charge(models.Model):
    """One device assignment's price split: what the subsidy pays and what the client pays, and why.

    `household_key` (see `pingantong.inventory.subsidy.household_key`) ties the one free basic
    terminal to the household; a voided charge (assignment cancelled) releases it.
    """

    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="device_charges")
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    household_key = models.CharField(_("household"), max_length=120, db_index=True)
    item = models.ForeignKey("inventory.StockItem", on_delete=models.PROTECT, related_name="charges")
    device_model = models.ForeignKey("inventory.DeviceModel", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("rule"), max_length=32, choices=ChargeKind.choices)
    price = models.DecimalField(_("price"), max_digits=8, decimal_places=2)
    subsidy_amount = models.DecimalField(_("paid by the subsidy"), max_digits=8, decimal_places=2)
    client_amount = models.DecimalField(_("paid by the client"), max_digits=8, decimal_places=2)
    uses_basic_subsidy = models.BooleanField(_("uses the household's free basic terminal"), default=False)
    explanation = models.TextField(_("explanation"))
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    void_reason = models.CharField(_("void reason"), max_length=200, blank=True)

    access_policy = CHARGE_POLICY
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("device charge")
        verbose_name_plural = _("device charges")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: ¥{self.client_amount}"

    @property
    def is_free(self) -> bool:
        return self.client_amount == Decimal("0")
