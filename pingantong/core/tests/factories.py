"""Access-test factories of the core app (see pingantong.testing.access_matrix)."""

from __future__ import annotations

from pingantong.core.audit import log_read
from pingantong.core.models import AuditEntry
from pingantong.regions.models import Region


def make_audit_entry_in(region_code: str) -> AuditEntry:
    """An audit entry about a record of `region_code` (a read of the region's own record)."""
    entry = log_read(user=None, obj=Region.objects.get(pk=region_code), fields=["address"], purpose="matrix")
    return AuditEntry.objects.get(pk=entry.pk)


ACCESS_FACTORIES = {"core.AuditEntry": make_audit_entry_in}
