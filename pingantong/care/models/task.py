"""Tasks: the one model for all follow-up work (confirmation, care call, visit, emergency visit,
maintenance, referral, follow-up), with due time, owner or team, status, escalation, outcome and
evidence. The alarm centre opens on-site emergency visits through `pingantong.care.actions.open_task`."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from pingantong.accounts.choices import Role
from pingantong.core.access import AccessPolicy, RestrictedQuerySet

from ..choices import TaskEventKind, TaskKind, TaskOutcome, TaskSource, TaskStatus, TaskStep

CARE_VIEW = frozenset(
    {
        Role.AGENT,
        Role.FIELD_WORKER,
        Role.SUPERVISOR,
        Role.AGENCY_ADMIN,
        Role.VILLAGE,
        Role.TOWNSHIP,
        Role.DISTRICT,
        Role.AUDITOR,
    }
)
CARE_WORK = frozenset({Role.AGENT, Role.FIELD_WORKER, Role.SUPERVISOR, Role.AGENCY_ADMIN})
CARE_ADMIN = frozenset({Role.SUPERVISOR, Role.AGENCY_ADMIN})


class Task(models.Model):
    """A piece of follow-up work for one client (or, for an unbound device's alarm, for a region),
    due at a time, owned by a person or a team (a role), with an escalation level and history, and
    closed with an outcome and structured notes."""

    access_policy = AccessPolicy(
        region_field="region_id", view=CARE_VIEW, add=CARE_WORK, change=CARE_WORK, delete=CARE_ADMIN
    )

    kind = models.CharField(_("kind"), max_length=20, choices=TaskKind.choices)
    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="care_tasks",
        verbose_name=_("client"),
        db_index=False,  # served by the (client, kind, status) index
    )
    # The client's region, copied when the task opens: the access restriction and the region filters
    # of the worklists use it without a join.
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("region"),
        db_index=False,  # served by the (region, status, due) index
    )
    due_at = models.DateTimeField(_("due"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="care_tasks",
        verbose_name=_("owner"),
        db_index=False,  # served by the (owner, status, due) index
    )
    team = models.CharField(_("team"), max_length=20, choices=Role.choices, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    step = models.CharField(_("step"), max_length=20, choices=TaskStep.choices, blank=True, default="")
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    attempts = models.PositiveSmallIntegerField(_("attempts at this step"), default=0)
    reason = models.TextField(_("reason"), blank=True)
    outcome = models.CharField(
        pgettext_lazy("care outcome", "outcome"), max_length=30, choices=TaskOutcome.choices, blank=True
    )
    notes = models.JSONField(_("structured notes"), default=dict, blank=True)
    evidence = models.JSONField(
        _("evidence"), default=list, blank=True, help_text=_("Related object references")
    )
    source = models.CharField(
        _("source"), max_length=20, choices=TaskSource.choices, default=TaskSource.MANUAL
    )
    source_ref = models.CharField(_("source reference"), max_length=100, blank=True)
    # Makes scheduled opening idempotent: one task per key (e.g. "confirmation:<client>:<date>").
    dedupe_key = models.CharField(max_length=100, unique=True, null=True, blank=True)
    # Who opened or closed a task is read from the task, never searched by: no index to maintain
    # on the daily sweep's tens of thousands of inserts.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_at", "id"]
        indexes = [
            # `id` too: the worklist orders by (due_at, id), and the sweep gives a whole day's
            # confirmations one due time; PostgreSQL (unlike SQLite, whose indexes end in the rowid)
            # otherwise joins and sorts all of them for one page (decision 0087).
            models.Index(fields=["status", "due_at", "id"], name="care_task_status_due_id"),
            models.Index(fields=["region", "status", "due_at"], name="care_task_region_status_due"),
            models.Index(fields=["owner", "status", "due_at"], name="care_task_owner_status_due"),
            models.Index(fields=["client", "kind", "status"], name="care_task_client_kind_status"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in (TaskStatus.OPEN, TaskStatus.IN_PROGRESS, TaskStatus.ESCALATED)


class TaskEvent(models.Model):
    """One step in a task's history: opened, assigned, an attempt, an escalation, a note, the close."""

    access_policy = AccessPolicy(region_field="task__region_id", view=CARE_VIEW)

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("at"))
    kind = models.CharField(_("kind"), max_length=20, choices=TaskEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, db_index=False
    )
    step = models.CharField(_("step"), max_length=20, choices=TaskStep.choices, blank=True, default="")
    level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    detail = models.TextField(_("detail"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("task event")
        verbose_name_plural = _("task events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.task_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"
