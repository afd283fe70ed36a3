"""Models of the gateway app: what it must remember about vendor clouds' deliveries.

The telemetry itself (raw frames, events, time series) lives in `pingantong.devices.models`; here
are only the gateway's own bookkeeping tables.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class VendorEventSeen(models.Model):
    """A vendor-cloud event id already stored: the same id delivered again is ignored.

    Vendor clouds deliver at least once and retry on timeouts, so the same event may arrive twice,
    in different requests (each with its own nonce and signature). Kept for `KEEP_DAYS`.
    """

    KEEP_DAYS = 30

    vendor = models.CharField(_("vendor"), max_length=40)
    event_id = models.CharField(_("vendor event id"), max_length=64)
    device_identity = models.CharField(_("identity"), max_length=64)
    device_time = models.DateTimeField(_("device time"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vendor", "event_id"], name="vendor_event_once"),
        ]
        verbose_name = _("vendor event seen")
        verbose_name_plural = _("vendor events seen")

    def __str__(self) -> str:
        return f"{self.vendor}:{self.event_id}"


class VendorDeviceClock(models.Model):
    """The newest device time stored for one vendor-cloud device.

    A vendor cloud may deliver out of order; an event older than this is stored as late
    (`archived`) data, so it cannot overwrite the newer latest state (battery, signal, steps; the
    position is already guarded by its own time).
    """

    identity = models.CharField(_("identity"), max_length=64, unique=True)
    latest_device_time = models.DateTimeField(_("newest device time"))

    class Meta:
        verbose_name = _("vendor device clock")
        verbose_name_plural = _("vendor device clocks")

    def __str__(self) -> str:
        return f"{self.identity} @ {self.latest_device_time:%Y-%m-%d %H:%M:%S}"
