"""Weekly checks of SOS buttons and wearables, and their results (DOMAIN.md: check weekly)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from pingantong.core.access import RestrictedQuerySet

from ..choices import CheckResult
from .policies import CHECK_POLICY


class DeviceCheck(models.Model):
    """The result of one week's check of one device: a press or test call within 7 days, or not.

    One row per device and ISO week (`week` = "2026-W48"): the sweep is idempotent.
    """

    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="weekly_checks")
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    week = models.CharField(_("week"), max_length=8)
    checked_at = models.DateTimeField(_("checked at"))
    result = models.CharField(_("result"), max_length=8, choices=CheckResult.choices)
    last_press_at = models.DateTimeField(_("last press or test call"), null=True, blank=True)
    evidence = models.CharField(_("evidence"), max_length=200, blank=True)
    task = models.ForeignKey("care.Task", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    access_policy = CHECK_POLICY
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-checked_at"]
        constraints = [models.UniqueConstraint(fields=["device", "week"], name="device_check_once_a_week")]
        verbose_name = _("weekly device check")
        verbose_name_plural = _("weekly device checks")

    def __str__(self) -> str:
        return f"{self.week} device {self.device_id}: {self.result}"


class TestCall(models.Model):
    """A test call or press the staff made with the client (counts for the weekly check)."""

    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="+")
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"))
    by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    access_policy = CHECK_POLICY
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-at"]
        verbose_name = _("test call")
        verbose_name_plural = _("test calls")

    def __str__(self) -> str:
        return f"test call device {self.device_id} at {self.at:%Y-%m-%d %H:%M}"
