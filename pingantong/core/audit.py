"""Audit of personal data (X2, I1): every change, and every read or export of a sensitive field.

Changes are recorded by django-auditlog for every model registered with `audit_changes` (who, when,
what changed, from which address: `auditlog.middleware.AuditlogMiddleware` supplies actor and
address). Reads and exports of sensitive fields (ID number, phone, address, health, location) are
recorded here as auditlog ACCESS entries, with the fields read and the *purpose* in
`additional_data`. An auditor searches both in the web UI (`/audit/`). Entries are kept at least a
year (`PINGANTONG_AUDIT_RETENTION_DAYS`, never less than 365) and purged by a scheduled task.

Every entry carries the region code of its *subject* in `additional_data["region"]`, fixed when
it is written (so an entry about a deleted record keeps its region): the record's region under its
access policy, a client's region for a read of the client. The audit page shows an auditor or
district user only the entries of their region subtree (`pingantong.core.models.AuditEntry`, the
one restriction of `pingantong.core.access`); entries without a region (system-wide records such
as templates, or people without a role) only to system administrators. See
docs/decisions/0081-region-scoped-audit-log.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.db.models import Q
from django.http import HttpRequest

from pingantong.regions.models import Region, ancestor_codes_of, prefix_of

from .access import policy_of, region_lookup, role_prefixes

SENSITIVE_KINDS = ("id_number", "phone", "address", "health", "location")

DEFAULT_PURPOSE = "service"  # the purpose when a page does not say more


def audit_region_of(obj: Any) -> str | None:
    """The region code an audit entry about `obj` belongs to: the record's region under its access
    policy, a region's own code, or what the model's `audit_region_code` says; None when the
    record belongs to no region (system-wide configuration)."""
    if isinstance(obj, Region):
        return obj.pk
    policy = policy_of(obj)
    try:
        code = policy.region_code_of(obj) if policy is not None else getattr(obj, "audit_region_code", None)
    except ObjectDoesNotExist:  # a parent already gone (e.g. within a cascade): the entry still counts
        return None
    return str(code) if code else None


def covering_region(codes: Iterable[str]) -> str | None:
    """The smallest region containing every one of `codes` (None for none, or no common province)."""
    common: list[str] | None = None
    for code in codes:
        chain = [*ancestor_codes_of(code), code]
        if common is None:
            common = chain
            continue
        shared = 0
        while shared < min(len(common), len(chain)) and common[shared] == chain[shared]:
            shared += 1
        common = common[:shared]
    return common[-1] if common else None


def _with_region(data: dict[str, Any], region_code: str | None) -> dict[str, Any]:
    return {**data, "region": region_code} if region_code else data


def _change_entry_data(self: models.Model) -> dict[str, Any] | None:
    """auditlog's `get_additional_data` hook for models registered with `audit_changes`."""
    return _with_region({}, audit_region_of(self)) or None


def audit_changes(
    model: type[models.Model], *, mask_fields: Sequence[str] = (), exclude_fields: Sequence[str] = ()
):
    """Register a model so that every create, update and delete is logged (values of `mask_fields`
    are masked in the log), each entry with the record's region (unless the model defines its own
    `get_additional_data`, which should then include `"region"`)."""
    if not callable(getattr(model, "get_additional_data", None)):
        model.get_additional_data = _change_entry_data  # type: ignore[attr-defined]
    auditlog.register(model, mask_fields=list(mask_fields), exclude_fields=list(exclude_fields))
    return model


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded:
        return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR")


def purpose_of(request: HttpRequest | None, default: str = DEFAULT_PURPOSE) -> str:
    """The purpose a reader gave: the `purpose` query parameter or the X-Purpose header."""
    if request is None:
        return default
    value = request.GET.get("purpose") or request.headers.get("X-Purpose") or ""
    return value.strip()[:200] or default


def log_read(
    *,
    user: Any,
    obj: models.Model,
    fields: Iterable[str],
    purpose: str,
    request: HttpRequest | None = None,
    kind: str = "read",
    region_code: str | None = None,
) -> LogEntry:
    """Record that `user` read sensitive `fields` of `obj` for `purpose` (the entry's region is
    `obj`'s unless `region_code` says otherwise)."""
    return LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
        object_pk=str(obj.pk),
        object_id=obj.pk if isinstance(obj.pk, int) else None,
        object_repr=str(obj)[:200],
        action=LogEntry.Action.ACCESS,
        actor=user if getattr(user, "is_authenticated", False) else None,
        remote_addr=client_ip(request),
        changes={},
        additional_data=_with_region(
            {"kind": kind, "fields": sorted(set(fields)), "purpose": purpose},
            region_code or audit_region_of(obj),
        ),
    )


def log_export(
    *,
    user: Any,
    model: type[models.Model],
    count: int,
    fields: Iterable[str],
    purpose: str,
    filters: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
    region_code: str | None = None,
) -> LogEntry:
    """Record an export of `count` records of `model` with the given (sensitive) fields.

    The entry's region is `region_code`, else the smallest region covering what the user may
    export (narrowed to `filters["region"]` when that lies inside it): the export cannot have
    reached beyond it."""
    ct = ContentType.objects.get_for_model(model)
    if region_code is None:
        region_code = export_region(user, model, (filters or {}).get("region"))
    return LogEntry.objects.create(
        content_type=ct,
        object_pk="*",
        object_repr=f"{model._meta.verbose_name_plural} ×{count}",
        action=LogEntry.Action.ACCESS,
        actor=user if getattr(user, "is_authenticated", False) else None,
        remote_addr=client_ip(request),
        changes={},
        additional_data=_with_region(
            {
                "kind": "export",
                "count": count,
                "fields": sorted(set(fields)),
                "purpose": purpose,
                "filters": filters or {},
            },
            region_code,
        ),
    )


def export_region(user: Any, model: type[models.Model], filtered: Any = None) -> str | None:
    """The region an export by `user` of `model` records stays in (see `log_export`)."""
    policy = policy_of(model)
    if policy is None or getattr(user, "is_superuser", False):
        scope = None
    else:
        prefixes = role_prefixes(user, policy.roles_for("export"))
        scope = covering_region(p.ljust(12, "0") for p in prefixes)
        if scope is None:
            return None
    filtered = str(filtered or "")
    if (
        len(filtered) == 12
        and filtered.isdigit()
        and (scope is None or filtered.startswith(prefix_of(scope)))
    ):
        return filtered
    return scope


def backfill_audit_regions(*, batch_size: int = 2000) -> int:
    """Give entries written before entries carried a region (decision 0081) the region of their
    subject, where the subject still exists; returns how many entries got one. Exports (`*`) and
    entries about deleted records stay without a region: system administrators see them."""
    lacking = (
        LogEntry.objects.filter(Q(additional_data__isnull=True) | Q(additional_data__region__isnull=True))
        .exclude(object_pk="*")
        .order_by()
    )
    updated = 0
    for ct_id in lacking.values_list("content_type_id", flat=True).distinct():
        model = ContentType.objects.get_for_id(ct_id).model_class()
        if model is None:
            continue
        entries = list(lacking.filter(content_type_id=ct_id).only("pk", "object_pk", "additional_data"))
        for start in range(0, len(entries), batch_size):
            chunk = entries[start : start + batch_size]
            regions = _regions_by_pk(model, {e.object_pk for e in chunk})
            changed = []
            for entry in chunk:
                code = regions.get(entry.object_pk)
                if code:
                    entry.additional_data = {**(entry.additional_data or {}), "region": code}
                    changed.append(entry)
            LogEntry.objects.bulk_update(changed, ["additional_data"])
            updated += len(changed)
    return updated


def _regions_by_pk(model: type[models.Model], object_pks: set[str]) -> dict[str, str]:
    """object_pk (as text) -> region code, for the records of `model` that still exist."""
    manager = model._default_manager
    pk_field = model._meta.pk
    assert pk_field is not None
    try:
        pks = [pk_field.to_python(pk) for pk in object_pks]
    except Exception:
        return {}
    policy = policy_of(model)
    if policy is not None:
        path = region_lookup(model, policy.region_field)
        rows = manager.filter(pk__in=pks).values_list("pk", path)
        return {str(pk): str(code) for pk, code in rows if code}
    found = {}
    for obj in manager.filter(pk__in=pks):
        code = audit_region_of(obj)
        if code:
            found[str(obj.pk)] = code
    return found
