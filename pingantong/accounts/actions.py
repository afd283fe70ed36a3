"""Writes of the accounts app: granting and revoking roles, scheduling shifts.

Each action checks region-scoped permission itself (callers pass the acting user), runs in one
transaction and leaves one audit trail (RoleAssignment and Shift are registered with auditlog).
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from pingantong.core.access import user_may, user_may_in_region
from pingantong.regions.models import Region, prefix_of

from .choices import AGENCY_ROLES, Role
from .models import ON_DUTY_ROLES, RoleAssignment, Shift, User


def grantable_roles(actor: User) -> frozenset[str]:
    """The roles `actor` may hand out: an agency administrator only the agency's own roles (so
    nobody raises themselves to auditor or system administrator); a system administrator any."""
    if actor.is_superuser or actor.has_role(Role.SYSADMIN):
        return frozenset(Role)
    if actor.has_role(Role.AGENCY_ADMIN):
        return AGENCY_ROLES
    return frozenset()


def _check_grant(actor: User, role: str, region: Region) -> None:
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    if role not in grantable_roles(actor) or not user_may_in_region(
        actor, "add", RoleAssignment, region.code
    ):
        raise PermissionDenied(_("You may not grant this role in this region."))
    if role in {Role.SYSADMIN, Role.AUDITOR} and not (actor.is_superuser or actor.has_role(Role.SYSADMIN)):
        raise PermissionDenied(_("Only a system administrator grants this role."))


@transaction.atomic
def grant_role(*, actor: User, user: User, role: str, region: Region) -> RoleAssignment:
    """Give `user` the `role` for `region` (idempotent: an existing assignment is returned)."""
    _check_grant(actor, role, region)
    assignment, _created = RoleAssignment.objects.get_or_create(user=user, role=role, region=region)
    user.forget_roles()
    return assignment


@transaction.atomic
def revoke_role(*, actor: User, assignment: RoleAssignment) -> None:
    """Take a role away. Nobody revokes their own last administrative role by accident."""
    if not user_may(actor, "delete", assignment) or assignment.role not in grantable_roles(actor):
        raise PermissionDenied(_("You may not revoke this role."))
    if assignment.user_id == actor.pk and assignment.role in {Role.AGENCY_ADMIN, Role.SYSADMIN}:
        raise ValidationError(_("You cannot revoke your own administrator role."))
    assignment.delete()
    assignment.user.forget_roles()


@transaction.atomic
def schedule_shift(
    *,
    actor: User,
    user: User,
    region: Region,
    seat: str,
    starts_at: datetime,
    ends_at: datetime,
    note: str = "",
) -> Shift:
    """Put `user` on `seat` from `starts_at` to `ends_at` (O1 24-hour cover)."""
    shift = Shift(
        user=user, region=region, seat=seat.strip(), starts_at=starts_at, ends_at=ends_at, note=note
    )
    validate_shift(shift)
    if not user_may(actor, "add", shift):
        raise PermissionDenied(_("You may not schedule shifts in this region."))
    shift.save()
    return shift


def validate_shift(shift: Shift) -> None:
    """A shift has a seat, ends after it starts, lasts at most 24 h and is held by on-duty staff
    whose role covers the shift's region; one person is never on two overlapping shifts."""
    errors: dict[str, str] = {}
    if not shift.seat:
        errors["seat"] = _("Name the seat.")
    if shift.starts_at and shift.ends_at:
        if shift.ends_at <= shift.starts_at:
            errors["ends_at"] = _("A shift ends after it starts.")
        elif (shift.ends_at - shift.starts_at).total_seconds() > 24 * 3600:
            errors["ends_at"] = _("A shift lasts at most 24 hours.")
    if shift.user_id and shift.region_id:
        holder = shift.user
        region_code = str(shift.region_id)
        # The seat's region and the holder's region lie on one line of the tree (a district agent
        # covers a town's seat; a town's field worker may hold the district's on-call duty).
        related = [
            region_code.startswith(prefix_of(code)) or code.startswith(prefix_of(region_code))
            for role, code in holder.role_regions()
            if role in ON_DUTY_ROLES
        ]
        if not any(related):
            errors["user"] = _("This person holds no agent, supervisor or field-worker role for this region.")
        elif shift.starts_at and shift.ends_at and "ends_at" not in errors:
            overlapping = Shift.objects.filter(
                user_id=shift.user_id, starts_at__lt=shift.ends_at, ends_at__gt=shift.starts_at
            ).exclude(pk=shift.pk)
            if overlapping.exists():
                errors["starts_at"] = _("This person already has a shift at that time.")
    if errors:
        raise ValidationError(errors)
