"""Consent (X2) and client-requested frequency changes (Q2)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from pingantong.accounts.choices import ALL_ROLES, Role
from pingantong.core.access import AccessPolicy, RestrictedQuerySet

from ..choices import ConsentMethod, ConsentPurpose, FrequencyKind, FrequencyRequestStatus
from .client import AGENCY_WRITERS, Client


class Consent(models.Model):
    """One recorded grant or withdrawal of consent for a purpose; never edited, only appended.

    The latest record per (client, purpose) by `effective_at`, then id, is the client's current
    wish; `selectors.has_consent` reads it at every use, so a withdrawal takes effect at once.
    """

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="consents", verbose_name=_("client")
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=ConsentPurpose.choices)
    granted = models.BooleanField(_("granted"), help_text=_("False records a withdrawal."))
    effective_at = models.DateTimeField(_("effective from"))
    method = models.CharField(_("method"), max_length=20, choices=ConsentMethod.choices)
    given_by = models.CharField(
        _("given by"),
        max_length=50,
        blank=True,
        help_text=_("Empty: the client; else a guardian's name."),
    )
    notes = models.CharField(_("notes"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    access_policy = AccessPolicy(
        region_field="client__region_id",
        view=ALL_ROLES,
        add=AGENCY_WRITERS | {Role.VILLAGE, Role.FIELD_WORKER},
    )
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["client_id", "purpose", "-effective_at", "-id"]
        indexes = [models.Index(fields=["client", "purpose", "-effective_at"], name="consent_latest")]

    def __str__(self) -> str:
        state = _("granted") if self.granted else _("withdrawn")
        return f"{self.client} · {self.get_purpose_display()} · {state}"


class FrequencyChangeRequest(models.Model):
    """A client's request to be called or visited more or less often (Q2).

    It changes nothing until the client's confirmation is recorded (`actions.confirm_frequency_change`),
    which then sets `Client.call_interval_days` / `visit_interval_days`, read by the care scheduler.
    """

    client = models.ForeignKey(
        Client,
        on_delete=models.CASCADE,
        related_name="frequency_requests",
        verbose_name=_("client"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=FrequencyKind.choices)
    interval_days = models.PositiveSmallIntegerField(_("every (days)"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    status = models.CharField(
        _("status"),
        max_length=24,
        choices=FrequencyRequestStatus.choices,
        default=FrequencyRequestStatus.AWAITING_CONFIRMATION,
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    requested_via = models.CharField(_("requested via"), max_length=50, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmation_method = models.CharField(
        _("confirmation method"),
        max_length=20,
        choices=ConsentMethod.choices,
        blank=True,
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    access_policy = AccessPolicy(
        region_field="client__region_id",
        view=ALL_ROLES,
        add=AGENCY_WRITERS | {Role.FIELD_WORKER, Role.VILLAGE},
        change=AGENCY_WRITERS | {Role.FIELD_WORKER},
    )
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("frequency change request")
        verbose_name_plural = _("frequency change requests")
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"{self.client} · {self.get_kind_display()} / {self.interval_days}d"
