"""Region- and role-scoped access: the one restriction every read and write of personal data passes.

A model that holds personal or operational data declares an `AccessPolicy` (which roles may view,
add, change or delete, and where the record's region code is) and uses `RestrictedQuerySet` as its
manager. Every list, detail, export, API and admin view obtains its queryset through
`Model.objects.restrict(user, action)`; the base classes in `pingantong.core.views`,
`pingantong.core.api` and `pingantong.core.admin` do this, and `core/tests/test_access_matrix.py`
fails when a view of a restricted model does not inherit from them.

A role is held for a region, and covers that region's whole subtree: the records whose region code
starts with the region's prefix (see `pingantong.regions.models.prefix_of`). Rules, in order:

1. Anonymous and inactive users may do nothing (also inactive superusers).
2. An active Django superuser may do everything everywhere (the first administrator, break-glass).
3. Everyone else, including holders of the `sysadmin` *role*, gets exactly what the model's policy
   grants their roles, and only in the subtrees of the regions they hold those roles for. The
   `sysadmin` role has no implicit bypass: personal data is read only where a policy says so
   (PIPL data minimisation, X2). See docs/decisions/0002-region-prefix-access.md.
4. `export` defaults to the roles that may `view`; any other action not listed is refused.
5. A new or changed record is checked on its own region (`user_may(user, "add", obj)`), so nobody
   creates or moves a record into a region outside their reach.
6. A record without a region code (a system-wide record, e.g. an audit entry about a message
   template) is reached only by the roles the policy names in `unregioned`, wherever they hold them.

`region_field` may also end in a key of a JSON field (`additional_data__region` for audit entries,
see `pingantong.core.models.AuditEntry`).
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
    `export` defaults to the roles that may view. `extra` names further actions (e.g. `claim`).
    `unregioned` names the roles that also reach records without a region code (system-wide
    records), for the actions the policy grants them; nobody else does.
    """

    region_field: str
    view: frozenset[str] = frozenset()
    add: frozenset[str] = frozenset()
    change: frozenset[str] = frozenset()
    delete: frozenset[str] = frozenset()
    export: frozenset[str] | None = None
    extra: dict[str, frozenset[str]] = field(default_factory=dict)
    unregioned: frozenset[str] = frozenset()

    def roles_for(self, action: str) -> frozenset[str]:
        if action == "export" and self.export is None:
            return frozenset(self.view)
        value = getattr(self, action, None) if action in ACTIONS else self.extra.get(action)
        return frozenset(value or ())

    def region_code_of(self, obj: Any) -> str | None:
        """The record's region code, following `region_field` through related objects (and into
        JSON values). A foreign key that the path follows only to its target's primary key
        (`region__code`, the code being Region's key) is read from the local column, not loaded."""
        value: Any = obj
        names = self.region_field.split("__")
        for i, name in enumerate(names):
            if value is None:
                return None
            if isinstance(value, dict):
                value = value.get(name)
                continue
            if isinstance(value, models.Model) and i + 2 == len(names):
                fk = _foreign_key(type(value), name)
                if fk is not None and names[-1] in {"pk", fk.target_field.name}:
                    value = getattr(value, fk.attname)
                    break
            value = getattr(value, name, None)
        if isinstance(value, models.Model):  # region_field="region" or "client__region"
            value = value.pk
        return str(value) if value else None


def _foreign_key(model: type[models.Model], name: str) -> Any:
    try:
        f = model._meta.get_field(name)
    except Exception:
        return None
    return f if getattr(f, "many_to_one", False) and f.concrete else None


def _is_active_user(user: Any) -> bool:
    return bool(
        user is not None and getattr(user, "is_authenticated", False) and getattr(user, "is_active", False)
    )


def role_prefixes(user: User | Any, roles: Iterable[str]) -> list[str]:
    """The region prefixes in which `user` holds one of `roles` (covered prefixes dropped)."""
    if not _is_active_user(user):
        return []
    wanted = set(roles)
    prefixes = {prefix_of(code) for role, code in user.role_regions() if role in wanted}
    # Drop prefixes covered by a shorter one: fewer OR terms for the database.
    return sorted(p for p in prefixes if not any(p != q and p.startswith(q) for q in prefixes))


_role_prefixes = role_prefixes  # the skeleton's name


def prefix_range(field: str, prefix: str) -> Q:
    """Values of `field` starting with `prefix`, as a range a B-tree index can serve: SQLite's
    `LIKE … ESCAPE` ignores case and so cannot. [prefix, prefix with its last character raised by
    one) holds exactly the prefixed values under a binary collation (SQLite's, PostgreSQL's C)."""
    if not prefix:
        return Q()
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix[:-1] + chr(ord(prefix[-1]) + 1)})


def region_lookup(model: type[models.Model] | None, region_field: str) -> str:
    """The ORM path to filter on with `__startswith`.

    Django refuses `startswith` on a foreign key (`region_id__startswith` raises FieldError), so a
    path ending at a foreign key, by name or by attname, is turned into `<fk>__pk`; Django trims
    that join, so the filter still reads the local column.
    """
    if model is None:
        return region_field
    *head, last = region_field.split("__")
    current: Any = model
    for name in head:
        current = current._meta.get_field(name).related_model
        if current is None:  # a key inside a JSON field: no foreign key at the end
            return region_field
    for f in current._meta.concrete_fields:
        if f.is_relation and last in {f.name, f.attname}:
            return "__".join([*head, f.name, "pk"])
    return region_field


def region_q(
    user: User | Any, action: str, policy: AccessPolicy, model: type[models.Model] | None = None
) -> Q | None:
    """The filter for the records `user` may act on, or None for "everything"."""
    if not _is_active_user(user):
        return Q(pk__in=[])
    if user.is_superuser:
        return None
    roles = policy.roles_for(action)
    prefixes = role_prefixes(user, roles)
    path = region_lookup(model, policy.region_field)
    terms = [Q(**{f"{path}__startswith": p}) for p in prefixes]
    if policy.unregioned and role_prefixes(user, roles & policy.unregioned):
        terms.append(Q(**{f"{path}__isnull": True}) | Q(**{path: ""}))
    if not terms:
        return Q(pk__in=[])
    return reduce(operator.or_, terms)


def policy_of(model_or_obj: Any) -> AccessPolicy | None:
    model = model_or_obj if isinstance(model_or_obj, type) else type(model_or_obj)
    return getattr(model, "access_policy", None)


def user_may_in_region(
    user: User | Any, action: str, model: type[models.Model], region_code: str | None
) -> bool:
    """May `user` perform `action` on records of `model` in the region `region_code`?"""
    policy = policy_of(model)
    if policy is None:
        raise TypeError(f"{model.__name__} has no access_policy")
    if not _is_active_user(user):
        return False
    if user.is_superuser:
        return True
    if not region_code:
        return bool(role_prefixes(user, policy.roles_for(action) & policy.unregioned))
    return any(str(region_code).startswith(p) for p in role_prefixes(user, policy.roles_for(action)))


def user_may(user: User | Any, action: str, obj: Any) -> bool:
    """Object-level check: may `user` perform `action` on this record (or on a new record like it)?

    For an unrestricted model this only requires an active, logged-in user.
    """
    policy = policy_of(obj)
    if policy is None:
        return _is_active_user(user)
    return user_may_in_region(user, action, type(obj), policy.region_code_of(obj))


class RestrictedQuerySet(models.QuerySet):
    """A queryset that knows how to cut itself down to what a user may see or touch."""

    def restrict(self, user: User | Any, action: str = "view") -> Self:
        policy: AccessPolicy | None = getattr(self.model, "access_policy", None)
        if policy is None:
            raise TypeError(f"{self.model.__name__} has no access_policy")
        q = region_q(user, action, policy, self.model)
        return self if q is None else self.filter(q)


def restricted_models() -> list[type[models.Model]]:
    """Every installed model that declares an access policy."""
    from django.apps import apps

    return [m for m in apps.get_models() if getattr(m, "access_policy", None) is not None]
