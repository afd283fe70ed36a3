"""Home visits (S12, Q2) with electronic visit verification: check-in location, distance from the
home, checklist, notes, photos and the client's confirmation."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from pingantong.core.access import AccessPolicy, RestrictedQuerySet

from ..choices import VisitStatus
from .task import CARE_VIEW, CARE_WORK

DEFAULT_CHECKLIST = (
    ("well", _("Client seen and well")),
    ("device_ok", _("Terminal worn and working")),
    ("home_safe", _("Home safe (gas, power, hazards)")),
    ("food_medicine", _("Food and medicine at hand")),
    ("contacts_ok", _("Emergency contacts still correct")),
)


class Visit(models.Model):
    """One home visit by a field worker. It *counts* (`verified`) only when checked in within the
    set distance of the home, or when the worker recorded why not (client met elsewhere, no fix)."""

    access_policy = AccessPolicy(region_field="region_id", view=CARE_VIEW, add=CARE_WORK, change=CARE_WORK)

    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="care_visits")
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    task = models.ForeignKey(
        "care.Task", on_delete=models.SET_NULL, null=True, blank=True, related_name="visits"
    )
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=12, choices=VisitStatus.choices, default=VisitStatus.PLANNED
    )
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    checkin_lat = models.FloatField(_("check-in latitude"), null=True, blank=True)
    checkin_lon = models.FloatField(_("check-in longitude"), null=True, blank=True)
    checkin_accuracy_m = models.FloatField(_("location accuracy (m)"), null=True, blank=True)
    distance_m = models.FloatField(_("distance from home (m)"), null=True, blank=True)
    off_site_reason = models.CharField(_("reason for checking in away from home"), max_length=200, blank=True)
    verified = models.BooleanField(_("counts as a visit"), default=False)
    checklist = models.JSONField(_("checklist"), default=dict, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    client_confirmed = models.BooleanField(_("confirmed by the client"), default=False)
    client_confirmation = models.CharField(_("how the client confirmed"), max_length=100, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-checked_in_at", "-id"]
        indexes = [models.Index(fields=["client", "completed_at"], name="care_visit_client_done")]

    def __str__(self) -> str:
        return f"{self.client_id} visit #{self.pk}"


class VisitPhoto(models.Model):
    """A photo taken during a visit (where the client agreed)."""

    access_policy = AccessPolicy(region_field="visit__region_id", view=CARE_VIEW, add=CARE_WORK)

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(_("photo"), upload_to="care/visits/%Y/%m/")
    uploaded_at = models.DateTimeField(_("uploaded at"))

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("visit photo")
        verbose_name_plural = _("visit photos")

    def __str__(self) -> str:
        return f"photo of visit {self.visit_id}"
