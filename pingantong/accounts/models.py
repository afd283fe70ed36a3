"""People who log in, and the roles they hold for regions."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import Role


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

    def has_role(self, *roles: str) -> bool:
        return self.is_superuser or bool(self.roles & set(roles))


class RoleAssignment(models.Model):
    """A role held for a region: the user acts on that region's whole subtree."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, verbose_name=_("region"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [models.UniqueConstraint(fields=["user", "role", "region"], name="unique_role_per_region")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.region}"
