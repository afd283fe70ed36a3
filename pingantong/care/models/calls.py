"""Care calls (S11, Q2, Q4): each call made to a client, by an agent or by the voice channel, with
its result and structured notes (mood, health, needs)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from pingantong.core.access import AccessPolicy, RestrictedQuerySet

from ..choices import CallMode, CallResult, HealthStatus, Mood
from .task import CARE_VIEW, CARE_WORK


class CareCall(models.Model):
    """One call to a client: who called (or the automated voice channel), when, whether it was
    answered, and what was learnt. An answered call is a life sign; concerns become follow-ups."""

    access_policy = AccessPolicy(region_field="region_id", view=CARE_VIEW, add=CARE_WORK, change=CARE_WORK)

    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="care_calls")
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    task = models.ForeignKey(
        "care.Task", on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )
    mode = models.CharField(_("mode"), max_length=12, choices=CallMode.choices, default=CallMode.HUMAN)
    at = models.DateTimeField(_("called at"))
    result = models.CharField(_("result"), max_length=12, choices=CallResult.choices)
    keypress = models.CharField(_("key pressed"), max_length=8, blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    mood = models.CharField(_("mood"), max_length=12, choices=Mood.choices, blank=True)
    health = models.CharField(_("health"), max_length=12, choices=HealthStatus.choices, blank=True)
    needs = models.JSONField(_("needs"), default=list, blank=True)
    concerns = models.TextField(_("concerns"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    message_ref = models.CharField(_("voice message"), max_length=64, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("care call")
        verbose_name_plural = _("care calls")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["client", "at"], name="care_call_client_at")]

    def __str__(self) -> str:
        return f"{self.client_id} {self.get_mode_display()} {self.at:%Y-%m-%d %H:%M}"
