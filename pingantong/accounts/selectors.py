"""Reads of the accounts app, always through the region restriction."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from .models import RoleAssignment, Shift, User


def shifts_visible_to(
    user: User, *, start: datetime | None = None, end: datetime | None = None
) -> QuerySet[Shift]:
    """The shifts `user` may see that overlap [start, end)."""
    qs = Shift.objects.restrict(user, "view").select_related("user", "region")
    if start is not None:
        qs = qs.filter(ends_at__gt=start)
    if end is not None:
        qs = qs.filter(starts_at__lt=end)
    return qs.order_by("starts_at", "seat")


def on_duty_now(user: User, *, at: datetime | None = None) -> QuerySet[Shift]:
    """Who is on a seat right now, among the shifts `user` may see."""
    moment = at or timezone.now()
    return shifts_visible_to(user).filter(starts_at__lte=moment, ends_at__gt=moment)


def filter_role_assignments(
    qs: QuerySet[RoleAssignment], *, search: str = "", role: str = ""
) -> QuerySet[RoleAssignment]:
    """Narrow an already restricted queryset of role assignments by a search text and a role."""
    from django.db.models import Q

    qs = qs.select_related("user", "region")
    if search:
        qs = qs.filter(
            Q(user__username__icontains=search)
            | Q(user__display_name__icontains=search)
            | Q(region__name__icontains=search)
        )
    if role:
        qs = qs.filter(role=role)
    return qs.order_by("user__username", "role", "region_id")


def role_assignments_visible_to(user: User, *, search: str = "", role: str = "") -> QuerySet[RoleAssignment]:
    """The role assignments in `user`'s regions, for the staff-accounts page."""
    return filter_role_assignments(RoleAssignment.objects.restrict(user, "view"), search=search, role=role)
