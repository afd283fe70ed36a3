"""People who log in, the roles they hold for regions, and the agency's seat roster."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from pingantong.core.access import AccessPolicy, RestrictedQuerySet

from .choices import AGENCY_ROLES, GOVERNMENT_ROLES, Role


class User(AbstractUser):
    """A person who logs in: agency staff, government staff, auditors and administrators."""

    display_name = models.CharField(_("display name"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def roles(self) -> set[str]:
        cached = getattr(self, "_role_cache", None)
        if cached is None:
            cached = list(self.role_assignments.values_list("role", "region_id"))
            self._role_cache = cached
        return {role for role, _code in cached}

    def role_regions(self) -> list[tuple[str, str]]:
        """(role, region code) pairs this user holds; cached on the instance for one request."""
        self.roles  # noqa: B018 - fills the cache
        return list(self._role_cache)

    def forget_roles(self) -> None:
        """Drop the cached roles after assignments changed (actions call this)."""
        self.__dict__.pop("_role_cache", None)

    def has_role(self, *roles: str) -> bool:
        return self.is_superuser or bool(self.roles & set(roles))

    @property
    def audit_region_code(self) -> str | None:
        """The region audit entries about this account belong to: the smallest region covering
        the regions the person holds roles for (None without a role: seen by system administrators)."""
        from pingantong.core.audit import covering_region

        if self.pk is None:
            return None
        # Not through role_regions(): that would cache the roles of an account being set up.
        return covering_region(self.role_assignments.values_list("region_id", flat=True))


# Who manages staff accounts: an agency administrator for the agency's staff in their regions,
# a system administrator for everyone in theirs (see actions.grantable_roles).
ROLE_MANAGERS = frozenset({Role.AGENCY_ADMIN, Role.SYSADMIN})


class RoleAssignment(models.Model):
    """A role held for a region: the user acts on that region's whole subtree."""

    access_policy = AccessPolicy(
        region_field="region_id",
        view=ROLE_MANAGERS | {Role.AUDITOR},
        add=ROLE_MANAGERS,
        change=ROLE_MANAGERS,
        delete=ROLE_MANAGERS,
    )

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, verbose_name=_("region"))
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "region"], name="unique_role_per_region")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.region}"


# Roles that staff a seat of the 24-hour call centre or go out on duty (O1).
ON_DUTY_ROLES = frozenset({Role.AGENT, Role.SUPERVISOR, Role.FIELD_WORKER})


class Shift(models.Model):
    """One person's duty period on a seat of the district's 24-hour call centre (O1).

    The roster shows who answers alarms when, so that supervisors see gaps in the 24-hour cover
    and the alarm console can tell who is on duty now. The region is the area the seat serves
    (usually the district, or a town for a field worker's on-call duty).
    """

    access_policy = AccessPolicy(
        region_field="region_id",
        view=AGENCY_ROLES | GOVERNMENT_ROLES | {Role.AUDITOR, Role.SYSADMIN},
        add=frozenset({Role.SUPERVISOR, Role.AGENCY_ADMIN}),
        change=frozenset({Role.SUPERVISOR, Role.AGENCY_ADMIN}),
        delete=frozenset({Role.SUPERVISOR, Role.AGENCY_ADMIN}),
    )

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="shifts", verbose_name=_("staff"))
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, verbose_name=_("region"))
    seat = models.CharField(_("seat"), max_length=30, help_text=_("e.g. seat 1, on-call field team"))
    starts_at = models.DateTimeField(_("starts at"), db_index=True)
    ends_at = models.DateTimeField(_("ends at"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "seat"]
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="shift_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.seat} · {self.starts_at:%Y-%m-%d %H:%M}"
