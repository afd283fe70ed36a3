"""The installation visit (D3, D4): home test, binding, live activation, SIM real name, teaching,
geotagged check-in, photos and the client's or family's confirmation.

A completed `Installation` is the evidence for the first-installation cost (F1, P3): reports read
`client`, `region`, `completed_at`, `installer`, the items (`InstallationItem.activated_at` and the
first event), `checkin_*`/`distance_m`, the photos and `confirmed_by`/`confirmed_name`
(docs/devices-in-the-field.md lists the fields).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from pingantong.core.access import RestrictedQuerySet

from ..choices import Carrier, ConfirmedBy, InstallationStatus, Mobility
from .policies import INSTALLATION_POLICY, PHOTO_POLICY


class Installation(models.Model):
    """One installation visit to one client's home."""

    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="installations", verbose_name=_("client")
    )
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    installer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="installations",
        verbose_name=_("installer"),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=InstallationStatus.choices, default=InstallationStatus.OPEN
    )
    started_at = models.DateTimeField(_("started at"))
    # Home test (D3)
    tested_at = models.DateTimeField(_("home tested at"), null=True, blank=True)
    carrier = models.CharField(_("carrier"), max_length=16, choices=Carrier.choices, blank=True)
    signal_dbm = models.SmallIntegerField(_("signal measured (dBm)"), null=True, blank=True)
    signal_bars = models.PositiveSmallIntegerField(_("signal bars (0-5)"), null=True, blank=True)
    mobility = models.CharField(_("mobility"), max_length=12, choices=Mobility.choices, blank=True)
    hearing_ok = models.BooleanField(_("hears a phone call"), default=True)
    can_press_button = models.BooleanField(_("can press a button"), default=True)
    cognition_ok = models.BooleanField(_("understands the device"), default=True)
    uses_gas = models.BooleanField(_("cooks with gas"), default=False)
    lives_alone = models.BooleanField(_("lives alone"), default=False)
    wishes = models.TextField(_("the client's wishes"), blank=True)
    recommended_types = models.JSONField(_("recommended device types"), default=list, blank=True)
    recommendation_reasons = models.JSONField(_("why"), default=dict, blank=True)
    # Check-in (geotag, WGS-84)
    checkin_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    checkin_lat = models.FloatField(_("check-in latitude"), null=True, blank=True)
    checkin_lon = models.FloatField(_("check-in longitude"), null=True, blank=True)
    checkin_accuracy_m = models.FloatField(_("accuracy (m)"), null=True, blank=True)
    distance_m = models.FloatField(_("distance from home (m)"), null=True, blank=True)
    off_site_reason = models.CharField(_("why not at home"), max_length=200, blank=True)
    # Teaching and confirmation (D4)
    taught = models.JSONField(_("taught"), default=list, blank=True)
    confirmed_by = models.CharField(_("confirmed by"), max_length=8, choices=ConfirmedBy.choices, blank=True)
    confirmed_name = models.CharField(_("name of who confirmed"), max_length=50, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    access_policy = INSTALLATION_POLICY
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["region", "status", "completed_at"], name="install_region_done")]
        verbose_name = _("installation")
        verbose_name_plural = _("installations")

    def __str__(self) -> str:
        return f"installation #{self.pk} for client {self.client_id}"


class InstallationItem(models.Model):
    """One device installed in this visit, and its live activation check."""

    installation = models.ForeignKey(Installation, on_delete=models.CASCADE, related_name="items")
    item = models.ForeignKey("inventory.StockItem", on_delete=models.PROTECT, related_name="installations")
    bound_at = models.DateTimeField(_("bound at"))
    activated_at = models.DateTimeField(_("first message at"), null=True, blank=True)
    # No database constraint: on PostgreSQL events are a partitioned table (decision 0101), whose
    # keys include received_at; the migration gateway 0002 drops the constraint there.
    first_event = models.ForeignKey(
        "devices.DeviceEventRecord",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")

    access_policy = INSTALLATION_POLICY
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["installation_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["installation", "item"], name="install_item_once"),
        ]
        verbose_name = _("installed device")
        verbose_name_plural = _("installed devices")

    def __str__(self) -> str:
        return f"{self.item} in installation {self.installation_id}"


class InstallationPhoto(models.Model):
    """A photo of the installed device in the home (with the client's agreement)."""

    installation = models.ForeignKey(Installation, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(_("photo"), upload_to="inventory/installations/%Y/%m/")
    uploaded_at = models.DateTimeField(_("uploaded at"))

    access_policy = PHOTO_POLICY
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("installation photo")
        verbose_name_plural = _("installation photos")

    def __str__(self) -> str:
        return f"photo of installation {self.installation_id}"
