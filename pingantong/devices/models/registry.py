"""The device registry: every terminal we know, what kind it is and whom it serves (D1).

A device is identified by its protocol and the identity that protocol carries (the watch id, the
JT/T 808 terminal number, the zigbee IEEE address or friendly name, the vendor cloud's id): the
same digits may well occur under two protocols, so identity is unique per protocol only.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from pingantong.core.access import RestrictedQuerySet
from pingantong.devices.models.policies import DEVICE_POLICY, INBOX_POLICY

_TZ = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2}):?(\d{2})?$")


def parse_tz_offset(text: str) -> int:
    """``+08:00`` / ``-0530`` / ``+8`` → minutes east of UTC (ValueError on anything else)."""
    match = _TZ.match(text.strip())
    if not match:
        raise ValueError(f"not a UTC offset: {text!r}")
    sign, hours, minutes = match.groups()
    value = int(hours) * 60 + int(minutes or 0)
    if value > 14 * 60:
        raise ValueError(f"UTC offset out of range: {text!r}")
    return -value if sign == "-" else value


def default_tz_offset_minutes() -> int:
    """The deployment's default terminal clock zone (PINGANTONG_DEVICE_TZ, +08:00)."""
    return parse_tz_offset(getattr(settings, "PINGANTONG_DEVICE_TZ", "+08:00") or "+08:00")


def default_unbound_region_code() -> str:
    """Where an unbound device sits for access purposes: the deployment's district.

    An unbound device has no client and so no village; keeping it at the district means the
    agency and district roles of the district see it (to bind it), and no village role does.
    """
    return str(getattr(settings, "PINGANTONG_DISTRICT_CODE", "350404000000"))


class DeviceProtocol(models.TextChoices):
    WATCH = "watch", _("Watch protocol")
    JT808 = "jt808", _("JT/T 808")
    MQTT = "mqtt", _("MQTT home sensor")
    WEBHOOK = "webhook", _("Vendor cloud webhook")


class DeviceTypeCode(models.TextChoices):
    """The seeded device types; the `DeviceType` table may hold more."""

    WATCH = "watch", _("Smart watch")
    PENDANT = "pendant", _("SOS pendant")
    JT808_TRACKER = "jt808_tracker", _("JT/T 808 tracker")
    SOS_BUTTON = "sos_button", _("SOS button")
    DOOR = "door", _("Door sensor")
    MOTION = "motion", _("Motion sensor")
    SMOKE = "smoke", _("Smoke detector")
    GAS = "gas", _("Gas detector")
    WATER_LEAK = "water_leak", _("Water leak sensor")
    CAMERA = "camera", _("Camera")
    VITALS = "vitals", _("Vitals monitor")


class DeviceType(models.Model):
    """A kind of terminal, and what its messages can prove and how often it should speak.

    `proves_person` says whether its activity shows the *person* is alive and active (a watch's
    steps, a motion sensor, a door opening) rather than only that the device is powered.
    `silence_threshold_s` is how long it may stay silent before the care rules ask (S06: 24 h).
    """

    code = models.SlugField(_("code"), max_length=32, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    proves_person = models.BooleanField(_("activity proves the person"), default=False)
    expected_interval_s = models.PositiveIntegerField(_("expected reporting interval (s)"), default=600)
    silence_threshold_s = models.PositiveIntegerField(_("silence threshold (s)"), default=24 * 3600)

    class Meta:
        ordering = ["code"]
        verbose_name = _("device type")
        verbose_name_plural = _("device types")

    def __str__(self) -> str:
        return self.name


class DeviceStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("device status", "Active")
    SUSPENDED = "suspended", pgettext_lazy("device status", "Suspended")
    RETIRED = "retired", _("Retired")


class Device(models.Model):
    """One terminal: a watch, a pendant, a tracker, a home sensor, a vendor-cloud device."""

    protocol = models.CharField(_("protocol"), max_length=16, choices=DeviceProtocol.choices)
    identity = models.CharField(_("identity"), max_length=64, help_text=_("The id the device sends."))
    device_type = models.ForeignKey(
        DeviceType, on_delete=models.PROTECT, related_name="devices", verbose_name=_("device type")
    )
    model_name = models.CharField(_("model"), max_length=100, blank=True)
    iccid = models.CharField(_("SIM ICCID"), max_length=22, blank=True)
    sim_number = models.CharField(_("SIM number"), max_length=20, blank=True)
    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="devices",
        verbose_name=_("bound client"),
        help_text=_("Empty while the device is not bound to a client (服务对象)."),
    )
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        related_name="devices",
        default=default_unbound_region_code,
        verbose_name=_("region"),
        help_text=_("The bound client's region (denormalised for access); the district when unbound."),
    )
    tz_offset_minutes = models.SmallIntegerField(
        _("clock zone (minutes east of UTC)"), default=default_tz_offset_minutes
    )
    status = models.CharField(
        _("status"), max_length=16, choices=DeviceStatus.choices, default=DeviceStatus.ACTIVE
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    access_policy = DEVICE_POLICY
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["protocol", "identity"]
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        constraints = [
            models.UniqueConstraint(fields=["protocol", "identity"], name="device_identity_per_protocol")
        ]

    def __str__(self) -> str:
        return f"{self.protocol}:{self.identity}"

    @property
    def is_bound(self) -> bool:
        return self.client_id is not None


class UnknownDeviceInbox(models.Model):
    """A terminal that talked to us but is not in the registry yet, for installers to bind.

    It is answered like a known device (so it does not reconnect in a loop) and its events are
    stored; an SOS from it still reaches the rules, flagged as unbound.
    """

    protocol = models.CharField(_("protocol"), max_length=16, choices=DeviceProtocol.choices)
    identity = models.CharField(_("identity"), max_length=64)
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", default=default_unbound_region_code
    )
    first_seen_at = models.DateTimeField(_("first seen"))
    last_seen_at = models.DateTimeField(_("last seen"))
    frame_count = models.PositiveIntegerField(_("frames"), default=0)
    last_peer = models.CharField(_("last address"), max_length=64, blank=True)
    last_frame = models.ForeignKey(
        "devices.RawFrame",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,  # raw frames are partitioned on PostgreSQL (devices.models.telemetry)
    )
    last_alarms = models.JSONField(_("last alarms"), default=list, blank=True)
    bound_device = models.ForeignKey(
        Device, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("bound as")
    )

    access_policy = INBOX_POLICY
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-last_seen_at"]
        verbose_name = _("unknown device")
        verbose_name_plural = _("unknown devices")
        constraints = [
            models.UniqueConstraint(fields=["protocol", "identity"], name="inbox_identity_per_protocol")
        ]

    def __str__(self) -> str:
        return f"{self.protocol}:{self.identity}"
