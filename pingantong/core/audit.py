"""Audit of personal data (X2, I1): every change, and every read or export of a sensitive field.

Changes are recorded by django-auditlog for every model registered with `audit_changes` (who, when,
what changed, from which address: `auditlog.middleware.AuditlogMiddleware` supplies actor and
address). Reads and exports of sensitive fields (ID number, phone, address, health, location) are
recorded here as auditlog ACCESS entries, with the fields read and the *purpose* in
`additional_data`. An auditor searches both in the web UI (`/audit/`). Entries are kept at least a
year (`PINGANTONG_AUDIT_RETENTION_DAYS`, never less than 365) and purged by a scheduled task.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.http import HttpRequest

SENSITIVE_KINDS = ("id_number", "phone", "address", "health", "location")

DEFAULT_PURPOSE = "service"  # the purpose when a page does not say more


def audit_changes(
    model: type[models.Model], *, mask_fields: Sequence[str] = (), exclude_fields: Sequence[str] = ()
):
    """Register a model so that every create, update and delete is logged (values of `mask_fields`
    are masked in the log)."""
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
) -> LogEntry:
    """Record that `user` read sensitive `fields` of `obj` for `purpose`."""
    return LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
        object_pk=str(obj.pk),
        object_id=obj.pk if isinstance(obj.pk, int) else None,
        object_repr=str(obj)[:200],
        action=LogEntry.Action.ACCESS,
        actor=user if getattr(user, "is_authenticated", False) else None,
        remote_addr=client_ip(request),
        changes={},
        additional_data={"kind": kind, "fields": sorted(set(fields)), "purpose": purpose},
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
) -> LogEntry:
    """Record an export of `count` records of `model` with the given (sensitive) fields."""
    ct = ContentType.objects.get_for_model(model)
    return LogEntry.objects.create(
        content_type=ct,
        object_pk="*",
        object_repr=f"{model._meta.verbose_name_plural} ×{count}",
        action=LogEntry.Action.ACCESS,
        actor=user if getattr(user, "is_authenticated", False) else None,
        remote_addr=client_ip(request),
        changes={},
        additional_data={
            "kind": "export",
            "count": count,
            "fields": sorted(set(fields)),
            "purpose": purpose,
            "filters": filters or {},
        },
    )
