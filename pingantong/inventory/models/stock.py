"""Stock: every physical device by serial/IMEI with its SIM, its state and its history.

The state moves only through the actions in `pingantong.inventory.actions.stock`, each of which
appends a `StockEvent`; the history is the evidence of repairs and replacements (D4).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from pingantong.core.access import RestrictedQuerySet
from pingantong.devices.models import default_unbound_region_code

from ..choices import SimRealName, StockAction, StockState
from .policies import HISTORY_POLICY, STOCK_POLICY


class StockItem(models.Model):
    """One physical device: on the shelf, with a client, in repair or gone."""

    serial = models.CharField(_("serial number"), max_length=40, unique=True)
    imei = models.CharField(_("IMEI"), max_length=17, blank=True, db_index=True)
    device_model = models.ForeignKey(
        "inventory.DeviceModel", on_delete=models.PROTECT, related_name="items", verbose_name=_("model")
    )
    device = models.OneToOneField(
        "devices.Device",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stock_item",
        verbose_name=_("registry entry"),
    )
    iccid = models.CharField(_("SIM ICCID"), max_length=22, blank=True)
    sim_number = models.CharField(_("SIM number"), max_length=20, blank=True)
    sim_real_name = models.CharField(
        _("SIM real-name registration"),
        max_length=16,
        choices=SimRealName.choices,
        default=SimRealName.NOT_REGISTERED,
    )
    sim_real_name_confirmed_at = models.DateTimeField(_("real name confirmed at"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=12, choices=StockState.choices, default=StockState.IN_STOCK, db_index=True
    )
    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stock_items",
        verbose_name=_("client"),
    )
    store_region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        related_name="+",
        default=default_unbound_region_code,
        verbose_name=_("store"),
    )
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        related_name="+",
        default=default_unbound_region_code,
        verbose_name=_("region"),
        help_text=_("The client's region while with a client, else the store's (for access)."),
    )
    replaced_by = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replaces"
    )
    client_damaged = models.BooleanField(_("damaged by the client"), default=False)
    created_at = models.DateTimeField(pgettext_lazy("stock received", "received at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    access_policy = STOCK_POLICY
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["serial"]
        indexes = [models.Index(fields=["region", "state"], name="stock_region_state")]
        verbose_name = _("stock item")
        verbose_name_plural = _("stock items")

    def __str__(self) -> str:
        return f"{self.device_model} #{self.serial}"


class StockEvent(models.Model):
    """One transition of a stock item: who did what, when, why, for which client."""

    item = models.ForeignKey(StockItem, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=24, choices=StockAction.choices)
    from_state = models.CharField(_("from"), max_length=12, choices=StockState.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=12, choices=StockState.choices)
    at = models.DateTimeField(_("at"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    client = models.ForeignKey(
        "clients.Client", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    access_policy = HISTORY_POLICY
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["item_id", "at", "id"]
        verbose_name = _("stock event")
        verbose_name_plural = _("stock events")

    def __str__(self) -> str:
        return f"{self.action}: {self.from_state or '-'} → {self.to_state}"
