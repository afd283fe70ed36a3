"""Downlink commands: queued in the database, delivered by whichever gateway holds the device.

The database row is the source of truth, so a command issued from the web process reaches a
device connected to any gateway process (scaled mode): each gateway polls for queued commands of
the devices it holds (pingantong.gateway.downlink).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from pingantong.core.access import RestrictedQuerySet
from pingantong.devices.models.policies import COMMAND_POLICY


class CommandKind(models.TextChoices):
    LOCATE_NOW = "locate_now", _("Locate now")
    REPORT_INTERVAL = "report_interval", _("Reporting interval")
    SOS_NUMBERS = "sos_numbers", _("SOS / family numbers")
    CLOCK_ZONE = "clock_zone", _("Clock zone")
    CALL_BACK = "call_back", _("Call back")
    TEXT = "text", _("Text message")
    RAW = "raw", _("Raw vendor command")


class CommandStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", pgettext_lazy("command sent to a device", "Sent")
    CONFIRMED = "confirmed", _("Confirmed")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


class DownlinkCommand(models.Model):
    """One command to one device and what became of it."""

    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="commands")
    kind = models.CharField(_("command"), max_length=24, choices=CommandKind.choices)
    payload = models.JSONField(_("parameters"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=CommandStatus.choices, default=CommandStatus.QUEUED
    )
    created_at = models.DateTimeField(_("queued at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    sent_at = models.DateTimeField(
        pgettext_lazy("command sent to a device", "sent at"), null=True, blank=True
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    gateway_node = models.CharField(_("sent by gateway"), max_length=64, blank=True)
    wire_serial = models.PositiveIntegerField(_("platform serial"), null=True, blank=True)
    expect_reply = models.CharField(_("expected confirmation"), max_length=32, blank=True)
    error = models.CharField(_("error"), max_length=255, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    access_policy = COMMAND_POLICY
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "device"], name="command_status_device")]
        verbose_name = _("downlink command")
        verbose_name_plural = _("downlink commands")

    def __str__(self) -> str:
        return f"{self.kind} → device {self.device_id} ({self.status})"
