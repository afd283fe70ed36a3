"""Worklists (per agent, per field worker, per supervisor), filtered by region and sorted by due
time, and the counts and warnings shown on the home page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet

from pingantong.accounts.choices import Role
from pingantong.regions.models import prefix_of

from ..choices import ACTIVE_STATUSES, TaskKind, TaskStep
from ..models import CARE_VIEW, InterventionFlag, Task

SCOPES = ("mine", "team", "all")
WORK_ROLES = (Role.AGENT, Role.FIELD_WORKER, Role.SUPERVISOR, Role.AGENCY_ADMIN)


def default_scope(user: Any) -> str:
    """Agents and field workers see their own and their team's tasks; supervisors see everything
    in their regions."""
    if user.is_superuser or user.has_role(Role.SUPERVISOR, Role.AGENCY_ADMIN):
        return "all"
    return "team" if user.has_role(Role.AGENT, Role.FIELD_WORKER) else "all"


def worklist(
    user: Any,
    *,
    scope: str | None = None,
    region: str | None = None,
    kind: str | None = None,
    statuses: tuple[str, ...] = ACTIVE_STATUSES,
    due_before: dt.datetime | None = None,
) -> QuerySet[Task]:
    """The tasks `user` should work on, soonest due first. `scope`: "mine" (owned by the user),
    "team" (owned by the user, or unowned and for a team whose role the user holds), "all" (every
    task the user may see)."""
    scope = scope if scope in SCOPES else default_scope(user)
    qs = Task.objects.restrict(user, "view").filter(status__in=statuses)
    if scope == "mine":
        qs = qs.filter(owner=user)
    elif scope == "team":
        roles = list(user.roles)
        qs = qs.filter(Q(owner=user) | Q(owner__isnull=True, team__in=[*roles, ""]))
    if region:
        try:
            qs = qs.filter(region__code__startswith=prefix_of(region))
        except (ValueError, KeyError):
            qs = qs.none()
    if kind:
        qs = qs.filter(kind=kind)
    if due_before is not None:
        qs = qs.filter(due_at__lt=due_before)
    return qs.select_related("client", "region", "owner").order_by("due_at", "id")


def field_visits(user: Any, *, day_end: dt.datetime) -> QuerySet[Task]:
    """A field worker's visits up to the end of the day: routine and emergency visits and
    confirmations that reached the visit step."""
    qs = worklist(user, scope="team", due_before=day_end)
    return qs.filter(
        Q(kind__in=(TaskKind.VISIT, TaskKind.EMERGENCY_VISIT))
        | Q(kind=TaskKind.CONFIRMATION, step=TaskStep.VISIT)
    )


def worklist_counts(user: Any, *, now: dt.datetime) -> dict | None:
    """Open, overdue and due-today counts of the user's worklist (None for users without care roles)."""
    if not (user.is_superuser or user.has_role(*CARE_VIEW)):
        return None
    qs = worklist(user).order_by()
    return qs.aggregate(
        open=Count("id"),
        overdue=Count("id", filter=Q(due_at__lt=now)),
        due_day=Count("id", filter=Q(due_at__lt=now + dt.timedelta(hours=24))),
    )


def active_flags(user: Any) -> list[InterventionFlag]:
    """Clients flagged as needing intervention (S17), newest first: the platform's warning."""
    return list(
        InterventionFlag.objects.restrict(user, "view")
        .filter(cleared_at__isnull=True)
        .select_related("client", "referral__partner")
        .order_by("-raised_at")[:50]
    )


def worklist_page(
    qs: QuerySet[Task], *, page: int, size: int, statuses: tuple[str, ...] = ACTIVE_STATUSES
) -> tuple[list[Task], bool]:
    """One page of a worklist ordered by due time, and whether another follows.

    Read one status at a time: each read walks the (status, due_at, id) index in order and stops after
    enough rows, where one `status IN (…)` query would sort every active task of the district first
    (tens of thousands at 100,000 clients). The reads take ids only, without the joins of
    `select_related`: a planner that underestimates the active tasks (PostgreSQL before its
    statistics see the morning's sweep) would otherwise join all of them before sorting (decision
    0087). The page's rows are then read by id, with their joins."""
    need = page * size + 1
    keys: list[tuple[dt.datetime, int]] = []
    for status in dict.fromkeys(statuses):
        keys.extend(qs.filter(status=status).values_list("due_at", "id")[:need])
    keys.sort()
    start = (page - 1) * size
    chunk = [pk for _due, pk in keys[start : start + size + 1]]
    ids = chunk[:size]
    rows = {task.pk: task for task in qs.filter(pk__in=ids)}
    return [rows[pk] for pk in ids if pk in rows], len(chunk) > size
