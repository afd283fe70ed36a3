"""The catalogue: what each device type is for (D1, D2) and the models the agency buys.

`DeviceType` (devices app) holds the type's code, what it proves, its expected reporting interval
and its life-sign silence threshold. `DeviceTypeProfile` adds what the field service needs per type:
its functions, whether it can be the basic terminal of D1, whether it is offered to clients (D2),
whether it is checked weekly (wearables and SOS buttons) and how long the *device* may stay silent
before supervision opens a maintenance task (a watch that reports every 10 minutes is broken after
2 hours of silence; a battery door contact that reports daily is fine after 20 hours).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from pingantong.devices.models import DeviceProtocol

from ..choices import Proves


class DeviceTypeProfile(models.Model):
    """The field service's view of one device type (reference data, not personal)."""

    device_type = models.OneToOneField(
        "devices.DeviceType",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="profile",
        verbose_name=_("device type"),
    )
    proves = models.CharField(_("proves"), max_length=8, choices=Proves.choices, default=Proves.DEVICE)
    functions = models.JSONField(
        _("functions"), default=list, blank=True, help_text=_("e.g. location, voice, sos, fall")
    )
    basic_terminal = models.BooleanField(
        _("can be the basic terminal"),
        default=False,
        help_text=_("Location, two-way voice and one-key SOS, portable (D1)."),
    )
    wearable = models.BooleanField(_("worn by the client"), default=False)
    weekly_check = models.BooleanField(_("checked weekly"), default=False)
    offered = models.BooleanField(_("offered to clients"), default=True)
    device_silence_s = models.PositiveIntegerField(
        _("device silence threshold (s)"),
        help_text=_("Silent longer than this, the device is treated as faulty (maintenance task)."),
    )
    explanation = models.CharField(_("what it is for"), max_length=200, blank=True)
    needs_signal = models.BooleanField(_("needs mobile signal at home"), default=False)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        ordering = ["sort_order", "device_type_id"]
        verbose_name = _("device type profile")
        verbose_name_plural = _("device type profiles")

    def __str__(self) -> str:
        return str(self.device_type)


class DeviceModel(models.Model):
    """A model the agency buys: vendor, type, protocol and price (the basis of every F2 charge)."""

    vendor = models.CharField(_("vendor"), max_length=60)
    model = models.CharField(_("model"), max_length=60)
    device_type = models.ForeignKey(
        "devices.DeviceType", on_delete=models.PROTECT, related_name="models", verbose_name=_("device type")
    )
    protocol = models.CharField(_("protocol"), max_length=16, choices=DeviceProtocol.choices)
    price = models.DecimalField(_("price (yuan)"), max_digits=8, decimal_places=2, default=Decimal("0"))
    multi_function = models.BooleanField(
        _("multi-function"),
        default=False,
        help_text=_("More than the basic functions: the client pays the price difference (F2)."),
    )
    basic_terminal = models.BooleanField(
        _("basic terminal"), default=False, help_text=_("Location, two-way voice and one-key SOS (D1).")
    )
    active = models.BooleanField(_("available"), default=True)

    class Meta:
        ordering = ["device_type_id", "vendor", "model"]
        verbose_name = _("device model")
        verbose_name_plural = _("device models")
        constraints = [models.UniqueConstraint(fields=["vendor", "model"], name="inventory_model_unique")]

    def __str__(self) -> str:
        return f"{self.vendor} {self.model}"
