"""Life signs that care work itself observes, and the daily confirmation coverage (S04–S06, Q1).

Device-borne life signs (steps, vitals, sensors, SOS) live with the devices app (DeviceState's
`last_life_sign_at`); the care app records the ones its own people and calls produce: an answered
care call, a visit, a confirmation. `pingantong.care.selectors.lifesigns` merges both."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from pingantong.core.access import AccessPolicy, RestrictedQuerySet

from ..choices import LifeSignSource
from .task import CARE_VIEW, CARE_WORK


class LifeSign(models.Model):
    """Evidence, at a moment, that the client (the person, not a device) was alive and reachable."""

    access_policy = AccessPolicy(region_field="region_id", view=CARE_VIEW, add=CARE_WORK)

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="care_life_signs")
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"))
    source = models.CharField(_("source"), max_length=20, choices=LifeSignSource.choices)
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("life sign")
        verbose_name_plural = _("life signs")
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["client", "at"], name="care_lifesign_client_at"),
            models.Index(fields=["at"], name="care_lifesign_at"),
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.source} {self.at:%Y-%m-%d %H:%M}"


class DailyCoverage(models.Model):
    """What the daily sweep found for one region (village level) on one local day: how many clients
    needed confirmation, how many were confirmed by a life sign already, how many tasks it opened.
    Confirmations achieved later through those tasks are counted live from the tasks."""

    access_policy = AccessPolicy(region_field="region_id", view=CARE_VIEW)

    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    day = models.DateField(_("day"))
    due = models.PositiveIntegerField(_("due"), default=0)
    confirmed_by_life_sign = models.PositiveIntegerField(_("confirmed by life sign"), default=0)
    tasks_opened = models.PositiveIntegerField(_("tasks opened"), default=0)
    swept_at = models.DateTimeField(_("swept at"))

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("daily coverage")
        verbose_name_plural = _("daily coverage")
        constraints = [models.UniqueConstraint(fields=["region", "day"], name="care_coverage_region_day")]

    def __str__(self) -> str:
        return f"{self.region_id} {self.day}"
