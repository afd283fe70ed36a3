"""Vendor clouds that push device events to us by HTTPS webhook, and the nonces they used.

A vendor's shared secret signs each request (HMAC-SHA256, pingantong.gateway.webhook). The secret
may come from the environment (`PINGANTONG_WEBHOOK_SECRET_<VENDOR>`) or from this table, so an
administrator can rotate it without a deployment. Seen nonces are kept for the timestamp window
so a captured request cannot be replayed.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class WebhookVendor(models.Model):
    """A vendor cloud allowed to post to /gateway/webhook/<name>/."""

    name = models.SlugField(_("name"), max_length=40, unique=True)
    secret = models.CharField(_("shared secret"), max_length=200)
    active = models.BooleanField(_("active"), default=True)
    device_type = models.ForeignKey(
        "devices.DeviceType", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("webhook vendor")
        verbose_name_plural = _("webhook vendors")

    def __str__(self) -> str:
        return self.name


class WebhookNonce(models.Model):
    """A nonce a vendor has used; a second request with it is a replay."""

    vendor = models.CharField(_("vendor"), max_length=40)
    nonce = models.CharField(_("nonce"), max_length=64)
    seen_at = models.DateTimeField(_("seen at"), db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["vendor", "nonce"], name="webhook_nonce_once")]
        verbose_name = _("webhook nonce")
        verbose_name_plural = _("webhook nonces")

    def __str__(self) -> str:
        return f"{self.vendor}:{self.nonce}"
