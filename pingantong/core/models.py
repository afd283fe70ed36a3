"""Shared model bases, and the audit log as the platform reads it."""

from auditlog.models import LogEntry
from django.db import models
from django.utils.translation import gettext_lazy as _

from pingantong.accounts.choices import Role

from .access import AccessPolicy, RestrictedQuerySet


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


# Who searches the audit log (X2, I1): auditors, system administrators and the district bureau,
# each in the subtree of the regions they hold the role for.
AUDIT_ROLES = frozenset({Role.AUDITOR, Role.SYSADMIN, Role.DISTRICT})


class AuditEntry(LogEntry):
    """One audit log entry (a change, read or export of personal data), as the audit page and the
    admin show it: a proxy of django-auditlog's LogEntry with the region restriction.

    The entry's region is the region of its subject, written into `additional_data["region"]`
    when the entry is made (pingantong.core.audit), so entries about deleted records keep theirs.
    Entries without a region (system-wide records, accounts without a role) reach system
    administrators only. See docs/decisions/0081-region-scoped-audit-log.md.
    """

    access_policy = AccessPolicy(
        region_field="additional_data__region",
        view=AUDIT_ROLES,
        unregioned=frozenset({Role.SYSADMIN}),
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        proxy = True
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
