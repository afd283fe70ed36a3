"""Applications (P1) and the in-app notices that tell the next role it has work."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from pingantong.accounts.choices import AGENCY_ROLES, Role
from pingantong.core.access import AccessPolicy, RestrictedQuerySet

from ..choices import ApplicationAction, ApplicationStatus, PayingScheme
from .client import Client

GOVERNMENT_CHAIN = frozenset({Role.VILLAGE, Role.TOWNSHIP, Role.DISTRICT})


class Application(models.Model):
    """A resident's application for the service, filed by the village/community committee (P1).

    The applicant is a `Client` in status `applying`; approval by the township makes it an enrolment
    (client `active`); the district then records it. Every step is an `ApplicationStep`.
    """

    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="applications", verbose_name=_("client")
    )
    status = models.CharField(
        _("status"), max_length=12, choices=ApplicationStatus.choices, default=ApplicationStatus.FILED
    )
    requested_scheme = models.CharField(
        _("requested scheme"), max_length=20, choices=PayingScheme.choices, default=PayingScheme.BASIC_PACKAGE
    )
    eligible = models.BooleanField(_("eligible for the basic package (E1)"), default=False)
    eligibility_notes = models.JSONField(_("eligibility explanation"), default=list, blank=True)
    statement = models.TextField(_("circumstances"), blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    filed_at = models.DateTimeField(_("filed at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    return_reason = models.TextField(_("reason for return"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), null=True, blank=True)

    access_policy = AccessPolicy(
        region_field="client__region_id",
        view=GOVERNMENT_CHAIN | AGENCY_ROLES | {Role.AUDITOR},
        add=frozenset({Role.VILLAGE}),
        change=frozenset({Role.VILLAGE}),
        extra={
            "file": frozenset({Role.VILLAGE}),
            "decide": frozenset({Role.TOWNSHIP}),
            "record": frozenset({Role.DISTRICT}),
        },
    )
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-filed_at", "-id"]
        indexes = [models.Index(fields=["status", "-filed_at"], name="application_status")]

    def __str__(self) -> str:
        return f"{self.client} · {self.get_status_display()}"


class ApplicationStep(models.Model):
    """One timestamped step of an application: who did what, when, and why."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="steps")
    action = models.CharField(_("action"), max_length=10, choices=ApplicationAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    role = models.CharField(_("as role"), max_length=20, blank=True)
    at = models.DateTimeField(_("at"))
    note = models.TextField(_("note"), blank=True)

    access_policy = AccessPolicy(
        region_field="application__client__region_id", view=GOVERNMENT_CHAIN | AGENCY_ROLES | {Role.AUDITOR}
    )
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} @ {self.at:%Y-%m-%d %H:%M}"


class Notice(models.Model):
    """An in-app notice to every user holding `role` for a region covering `region_code` (P1: "notifies
    the next role"). Kept deliberately simple; the notifications app may relay these later."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    region_code = models.CharField(_("region"), max_length=12, db_index=True)
    message = models.CharField(_("message"), max_length=200)
    url = models.CharField(max_length=200, blank=True)
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    done = models.BooleanField(default=False)

    access_policy = AccessPolicy(
        region_field="region_code", view=GOVERNMENT_CHAIN | AGENCY_ROLES | {Role.AUDITOR}
    )
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.message
