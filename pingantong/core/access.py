"""Region- and role-scoped access: the one restriction every read and write of personal data passes.

A model that holds personal or operational data declares an `AccessPolicy` (which roles may view,
add, change or delete, and where the record's region code is) and uses `RestrictedQuerySet` as its
manager. Every list, detail, export, API and admin view obtains its queryset through
`Model.objects.restrict(user, action)`; the base classes in `pingantong.core.views`,
`pingantong.core.api` and `pingantong.core.admin` do this, and `tests/test_access_matrix.py` fails
when a view of a restricted model does not inherit from them.

A role is held for a region, and covers that region's whole subtree: the records whose region code
starts with the region's prefix (see `pingantong.regions.models`). A superuser sees everything.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import reduce
from typing import TYPE_CHECKING, Any, Self

from django.db import models
from django.db.models import Q

from pingantong.regions.models import prefix_of

if TYPE_CHECKING:
    from pingantong.accounts.models import User

ACTIONS = ("view", "add", "change", "delete", "export")

METHOD_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


@dataclass(frozen=True)
class AccessPolicy:
    """Who may do what with a model's records, and where each record's region code is.

    `region_field` is an ORM lookup path that ends at the 12-digit region code, e.g. `region_id`
    or `client__region_id`. Actions not listed are refused to every role (superusers excepted).
    `export` defaults to the roles that may view.
    """

    region_field: str
    view: frozenset[str] = frozenset()
    add: frozenset[str] = frozenset()
    change: frozenset[str] = frozenset()
    delete: frozenset[str] = frozenset()
    export: frozenset[str] | None = None
    extra: dict[str, frozenset[str]] = field(default_factory=dict)

    def roles_for(self, action: str) -> frozenset[str]:
        if action == "export" and self.export is None:
            return self.view
        value = getattr(self, action, None) if action in ACTIONS else self.extra.get(action)
        return frozenset(value or ())

    def region_code_of(self, obj: Any) -> str | None:
        value = reduce(lambda o, name: getattr(o, name, None) if o is not None else None,
                       self.region_field.split("__"), obj)
        return str(value) if value else None


def _role_prefixes(user: User, roles: Iterable[str]) -> list[str]:
    wanted = set(roles)
    prefixes = {prefix_of(code) for role, code in user.role_regions() if role in wanted}
    # Drop prefixes covered by a shorter one: fewer OR terms for the database.
    return sorted(p for p in prefixes if not any(p != q and p.startswith(q) for q in prefixes))


def region_q(user: User | Any, action: str, policy: AccessPolicy) -> Q | None:
    """The filter for the records `user` may act on, or None for "everything"."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Q(pk__in=[])
    if user.is_superuser:
        return None
    prefixes = _role_prefixes(user, policy.roles_for(action))
    if not prefixes:
        return Q(pk__in=[])
    return reduce(operator.or_, (Q(**{f"{policy.region_field}__startswith": p}) for p in prefixes))


def user_may(user: User | Any, action: str, obj: Any) -> bool:
    """Object-level check: may `user` perform `action` on this record (or on a new record like it)?"""
    policy: AccessPolicy | None = getattr(type(obj), "access_policy", None)
    if policy is None:
        return bool(user and user.is_authenticated)
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    code = policy.region_code_of(obj)
    if not code:
        return False
    return any(code.startswith(p) for p in _role_prefixes(user, policy.roles_for(action)))


def user_may_in_region(user: User | Any, action: str, model: type[models.Model], region_code: str) -> bool:
    """May `user` perform `action` on records of `model` in the region `region_code`?"""
    policy: AccessPolicy = model.access_policy  # type: ignore[attr-defined]
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    return any(region_code.startswith(p) for p in _role_prefixes(user, policy.roles_for(action)))


class RestrictedQuerySet(models.QuerySet):
    """A queryset that knows how to cut itself down to what a user may see or touch."""

    def restrict(self, user: User | Any, action: str = "view") -> Self:
        policy: AccessPolicy | None = getattr(self.model, "access_policy", None)
        if policy is None:
            raise TypeError(f"{self.model.__name__} has no access_policy")
        q = region_q(user, action, policy)
        return self if q is None else self.filter(q)


def restricted_models() -> list[type[models.Model]]:
    from django.apps import apps

    return [m for m in apps.get_models() if getattr(m, "access_policy", None) is not None]
