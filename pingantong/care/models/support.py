"""Psychological support and referrals (S16–S21): counselling sessions, intervention flags,
referrals to the social-work station and partner organisations, the information directory, and
offline activities with sign-up and attendance."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from pingantong.accounts.choices import ALL_ROLES
from pingantong.core.access import AccessPolicy, RestrictedQuerySet

from ..choices import (
    ActivityKind,
    CounsellingMode,
    DirectoryCategory,
    PartnerKind,
    ReferralKind,
    ReferralStatus,
)
from .task import CARE_ADMIN, CARE_VIEW, CARE_WORK

USER = settings.AUTH_USER_MODEL


class CounsellingSession(models.Model):
    """A simple psychological support session (S16): when, how, what was talked about."""

    access_policy = AccessPolicy(region_field="region_id", view=CARE_VIEW, add=CARE_WORK, change=CARE_WORK)

    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="counselling_sessions"
    )
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    counsellor = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(_("at"))
    mode = models.CharField(_("mode"), max_length=12, choices=CounsellingMode.choices)
    topics = models.CharField(_("topics"), max_length=200, blank=True)
    summary = models.TextField(_("summary"))
    needs_intervention = models.BooleanField(_("needs intervention"), default=False)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("counselling session")
        verbose_name_plural = _("counselling sessions")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.client_id} {self.at:%Y-%m-%d}"


class PartnerOrganisation(models.Model):
    """A social-work station, care home, medical or community service we refer clients to under
    agreement (S17, S20, S21). Its region is where it serves."""

    access_policy = AccessPolicy(
        region_field="region_id",
        view=frozenset(ALL_ROLES),
        add=CARE_ADMIN,
        change=CARE_ADMIN,
        delete=CARE_ADMIN,
    )

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=24, choices=PartnerKind.choices)
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    agreement_ref = models.CharField(_("agreement"), max_length=100, blank=True)
    active = models.BooleanField(_("active"), default=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("partner organisation")
        verbose_name_plural = _("partner organisations")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


class Referral(models.Model):
    """A client referred to a social-work station, a partner organisation or an online medical
    service, with what became of it (S17, S20, S21)."""

    access_policy = AccessPolicy(region_field="region_id", view=CARE_VIEW, add=CARE_WORK, change=CARE_WORK)

    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="referrals")
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=ReferralKind.choices)
    partner = models.ForeignKey(
        PartnerOrganisation, on_delete=models.PROTECT, null=True, blank=True, related_name="referrals"
    )
    service = models.CharField(
        _("service"),
        max_length=100,
        blank=True,
        help_text=_("e.g. online registration at a hospital, tele-consultation"),
    )
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=12, choices=ReferralStatus.choices, default=ReferralStatus.OPEN
    )
    outcome = models.TextField(pgettext_lazy("care outcome", "outcome"), blank=True)
    task = models.ForeignKey("care.Task", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    referred_at = models.DateTimeField(_("referred at"))
    referred_by = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, related_name="+")
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-referred_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.client_id}"


class InterventionFlag(models.Model):
    """A warning on the platform (S17): this client needs intervention; referred to the local
    social-work station. Shown on worklists and the home page until cleared."""

    access_policy = AccessPolicy(region_field="region_id", view=CARE_VIEW, add=CARE_WORK, change=CARE_ADMIN)

    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="intervention_flags")
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"))
    session = models.ForeignKey(CounsellingSession, on_delete=models.SET_NULL, null=True, blank=True)
    referral = models.ForeignKey(Referral, on_delete=models.SET_NULL, null=True, blank=True)
    raised_at = models.DateTimeField(pgettext_lazy("request raised", "raised at"))
    raised_by = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, related_name="+")
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)
    cleared_by = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("intervention flag")
        verbose_name_plural = _("intervention flags")
        ordering = ["-raised_at"]

    def __str__(self) -> str:
        return f"{self.client_id} flagged {self.raised_at:%Y-%m-%d}"


class DirectoryEntry(models.Model):
    """Information for agents answering questions (S19): care homes, community services, policies."""

    access_policy = AccessPolicy(
        region_field="region_id",
        view=frozenset(ALL_ROLES),
        add=CARE_ADMIN,
        change=CARE_ADMIN,
        delete=CARE_ADMIN,
    )

    category = models.CharField(_("category"), max_length=20, choices=DirectoryCategory.choices)
    title = models.CharField(_("title"), max_length=150)
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    summary = models.TextField(_("summary"))
    contact = models.CharField(pgettext_lazy("contact details", "contact"), max_length=100, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    url = models.URLField(_("link"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("directory entry")
        verbose_name_plural = _("directory entries")
        ordering = ["category", "title"]

    def __str__(self) -> str:
        return self.title


class Activity(models.Model):
    """An offline activity for clients (S18): health talk, consultation, gathering."""

    access_policy = AccessPolicy(
        region_field="region_id",
        view=frozenset(ALL_ROLES),
        add=CARE_WORK,
        change=CARE_WORK,
        delete=CARE_ADMIN,
    )

    title = models.CharField(_("title"), max_length=150)
    kind = models.CharField(_("kind"), max_length=20, choices=ActivityKind.choices)
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField(_("starts at"))
    location = models.CharField(_("location"), max_length=200)
    capacity = models.PositiveIntegerField(_("places"), default=30)
    description = models.TextField(_("description"), blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return self.title


class ActivitySignup(models.Model):
    """A client signed up for an activity, and whether they came."""

    access_policy = AccessPolicy(
        region_field="client__region_id", view=CARE_VIEW, add=CARE_WORK, change=CARE_WORK, delete=CARE_WORK
    )

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="signups")
    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="activity_signups")
    signed_up_at = models.DateTimeField(_("signed up at"))
    signed_up_by = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, related_name="+")
    attended = models.BooleanField(_("attended"), null=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("activity sign-up")
        verbose_name_plural = _("activity sign-ups")
        constraints = [models.UniqueConstraint(fields=["activity", "client"], name="care_signup_once")]

    def __str__(self) -> str:
        return f"{self.client_id} → {self.activity_id}"
