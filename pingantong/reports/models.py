"""Monthly settlement (P3, F1): what the bureau pays on, each billed line tied to its evidence.

A `Settlement` is one month for one region (normally the district). Its lines are computed from
the service records (pingantong.reports.settlement), stored, and frozen once the bureau approves:
later changes to the records never alter an approved month.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from pingantong.accounts.choices import Role
from pingantong.core.access import AccessPolicy, RestrictedQuerySet

AGENCY = frozenset({Role.AGENCY_ADMIN, Role.SUPERVISOR})
BUREAU = frozenset({Role.DISTRICT})
READERS = AGENCY | BUREAU | {Role.AUDITOR, Role.TOWNSHIP, Role.SYSADMIN}


class SettlementStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted to the bureau")
    RETURNED = "returned", _("Returned to the agency")
    APPROVED = "approved", _("Approved (frozen)")


class LineKind(models.TextChoices):
    BASIC = "basic", _("Basic package person-month")
    INSTALLATION = "installation", _("First installation")
    CLIENT_PAID = "client_paid", _("Client-paid charge (kept apart)")


class Settlement(models.Model):
    """One month's settlement for a region, from draft to the bureau's approval."""

    access_policy = AccessPolicy(
        region_field="region_id",
        view=frozenset(READERS),
        add=AGENCY,
        change=AGENCY | BUREAU,
        extra={"submit": AGENCY, "review": BUREAU},
    )

    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    month = models.DateField(_("month"), help_text=_("first day of the month"))
    status = models.CharField(
        _("status"), max_length=12, choices=SettlementStatus.choices, default=SettlementStatus.DRAFT
    )
    rate = models.DecimalField(_("rate per person-month (yuan)"), max_digits=8, decimal_places=2)
    person_months = models.PositiveIntegerField(_("person-months"), default=0)
    basic_amount = models.DecimalField(_("basic service subsidy"), max_digits=12, decimal_places=2, default=0)
    installation_count = models.PositiveIntegerField(_("first installations"), default=0)
    installation_amount = models.DecimalField(
        _("first-installation costs"), max_digits=12, decimal_places=2, default=0
    )
    client_paid_amount = models.DecimalField(
        _("client-paid charges (not subsidised)"), max_digits=12, decimal_places=2, default=0
    )
    eligible_without_service = models.PositiveIntegerField(_("enrolled but no service delivered"), default=0)
    computed_at = models.DateTimeField(_("computed at"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(
        pgettext_lazy("settlement review", "reviewed at"), null=True, blank=True
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    review_note = models.TextField(pgettext_lazy("settlement review", "review note"), blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("settlement")
        verbose_name_plural = _("settlements")
        ordering = ["-month", "region_id"]
        constraints = [
            models.UniqueConstraint(fields=["region", "month"], name="reports_one_settlement_per_month")
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {self.month:%Y-%m}"

    @property
    def total_subsidy(self) -> Decimal:
        return Decimal(self.basic_amount) + Decimal(self.installation_amount)

    @property
    def frozen(self) -> bool:
        return self.status == SettlementStatus.APPROVED


class SettlementLine(models.Model):
    """One billed item: a client's person-month, a first installation or a client-paid charge.

    `evidence` lists what proves the service was delivered (ids of confirmations, answered calls,
    verified visits, handled alarms, life signs) so an auditor can drill down to a single call.
    """

    access_policy = AccessPolicy(
        region_field="region_id",
        view=frozenset(READERS),
        change=AGENCY | BUREAU,
        extra={"query": BUREAU, "answer": AGENCY},
    )

    settlement = models.ForeignKey(Settlement, on_delete=models.CASCADE, related_name="lines")
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=14, choices=LineKind.choices)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=10, decimal_places=2)
    client_name = models.CharField(_("client"), max_length=50)  # frozen with the line
    evidence = models.JSONField(
        pgettext_lazy("service evidence for a settlement", "evidence"), default=dict, blank=True
    )
    evidence_count = models.PositiveIntegerField(_("evidence items"), default=0)
    query = models.TextField(_("bureau's query"), blank=True)
    queried_at = models.DateTimeField(_("queried at"), null=True, blank=True)
    answer = models.TextField(_("agency's answer"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("settlement line")
        verbose_name_plural = _("settlement lines")
        ordering = ["kind", "region_id", "client_name"]
        indexes = [models.Index(fields=["settlement", "kind"], name="reports_line_kind")]

    def __str__(self) -> str:
        return f"{self.client_name} {self.get_kind_display()} {self.amount}"


class RetentionRun(models.Model):
    """One purge of one kind of record: when, up to which cutoff, how many rows (I1, S09, S24)."""

    ran_at = models.DateTimeField(_("ran at"), db_index=True)
    record_type = models.CharField(_("record type"), max_length=40)
    cutoff = models.DateTimeField(_("cutoff"))
    deleted = models.PositiveIntegerField(_("deleted"))
    rule = models.CharField(_("rule"), max_length=200)

    class Meta:
        verbose_name = _("retention run")
        verbose_name_plural = _("retention runs")
        ordering = ["-ran_at"]

    def __str__(self) -> str:
        return f"{self.record_type} {self.ran_at:%Y-%m-%d} −{self.deleted}"
