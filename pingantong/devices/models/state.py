"""The latest state of each device, and the history of life signs (S04–S06, Q1).

Two clocks are kept apart on purpose: `last_device_seen_at` moves with any message (a heartbeat
proves the device is powered and connected), `last_life_sign_at` only with something that proves
the *person* (steps, movement, a vitals reading, a button press, a door opening). A watch lying
charged on a table keeps the first fresh and lets the second age, which is what the daily
life-status confirmation must notice.

A device passes from one person to another (a replacement, a reassignment): its life sign proves the
*previous* client alive, never the next one. `bound_at` records when the current binding took effect;
the binding actions (pingantong.devices.actions.bind_device / unbind_device) clear the person's
fields (life sign, steps, position) when the client changes, the appliers refuse facts that
happened before `bound_at`, and every reader counts a life sign only at or after it (decision 0111).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from pingantong.core.access import RestrictedQuerySet
from pingantong.devices.models.policies import OF_DEVICE_READONLY


class LifeSignSource(models.TextChoices):
    STEPS = "steps", _("Steps / movement")
    VITALS = "vitals", _("Vitals reading")
    SOS = "sos", _("SOS / button press")
    SENSOR = "sensor", _("Home sensor activity")


class DeviceState(models.Model):
    """What we last know of one device: one row per device, updated by the gateway's rules."""

    device = models.OneToOneField(
        "devices.Device", on_delete=models.CASCADE, primary_key=True, related_name="state"
    )
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    position_valid = models.BooleanField(_("fix valid"), default=False)
    position_at = models.DateTimeField(_("position time"), null=True, blank=True)
    battery_pct = models.PositiveSmallIntegerField(_("battery %"), null=True, blank=True)
    signal_pct = models.PositiveSmallIntegerField(_("signal %"), null=True, blank=True)
    steps = models.PositiveIntegerField(_("steps"), null=True, blank=True)
    last_message_at = models.DateTimeField(_("last message"), null=True, blank=True)
    last_device_seen_at = models.DateTimeField(_("device last seen"), null=True, blank=True)
    last_life_sign_at = models.DateTimeField(_("last life sign"), null=True, blank=True)
    last_life_sign_source = models.CharField(
        _("life sign source"), max_length=16, choices=LifeSignSource.choices, blank=True
    )
    bound_at = models.DateTimeField(
        _("bound since"),
        null=True,
        blank=True,
        help_text=_(
            "When the device's current client binding (or unbinding) took effect: life signs and "
            "positions from before it belong to the previous client, not this one."
        ),
    )
    connected_node = models.CharField(_("gateway node"), max_length=64, blank=True, db_index=True)
    connected_since = models.DateTimeField(_("connected since"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    access_policy = OF_DEVICE_READONLY
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("device state")
        verbose_name_plural = _("device states")

    def __str__(self) -> str:
        return f"state of device {self.device_id}"


class LifeSign(models.Model):
    """One proof that the person was alive and active, thinned to at most one row per device per
    `LIFE_SIGN_HISTORY_SPACING` (see pingantong.gateway.pipeline) so the history stays small.

    `client` is the person the device was bound to when the sign happened, so a client keeps their
    history after the device goes to someone else; empty for signs from before the device's current
    binding arriving late, from an unbound device, or recorded before the column existed."""

    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="life_signs")
    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="device_life_signs",
        verbose_name=_("client"),
    )
    occurred_at = models.DateTimeField(_("occurred at"))
    source = models.CharField(_("source"), max_length=16, choices=LifeSignSource.choices)
    event = models.ForeignKey(
        "devices.DeviceEventRecord",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,  # events are partitioned on PostgreSQL (devices.models.telemetry)
    )

    access_policy = OF_DEVICE_READONLY
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(fields=["device", "-occurred_at"], name="lifesign_device_time"),
            models.Index(fields=["client", "-occurred_at"], name="lifesign_client_time"),
        ]
        verbose_name = _("life sign")
        verbose_name_plural = _("life signs")

    def __str__(self) -> str:
        return f"{self.source} at {self.occurred_at:%Y-%m-%d %H:%M}"
