"""Who may see and manage device data (pingantong.core.access)."""

from __future__ import annotations

from pingantong.accounts.choices import Role
from pingantong.core.access import AccessPolicy

STAFF_VIEW = frozenset(
    {
        Role.AGENT,
        Role.FIELD_WORKER,
        Role.SUPERVISOR,
        Role.AGENCY_ADMIN,
        Role.VILLAGE,
        Role.TOWNSHIP,
        Role.DISTRICT,
        Role.AUDITOR,
        Role.SYSADMIN,
    }
)
DEVICE_MANAGERS = frozenset({Role.FIELD_WORKER, Role.SUPERVISOR, Role.AGENCY_ADMIN, Role.SYSADMIN})
DEVICE_ADMINS = frozenset({Role.AGENCY_ADMIN, Role.SYSADMIN})
COMMAND_ISSUERS = frozenset(
    {Role.AGENT, Role.FIELD_WORKER, Role.SUPERVISOR, Role.AGENCY_ADMIN, Role.SYSADMIN}
)

DEVICE_POLICY = AccessPolicy(
    region_field="region_id",
    view=STAFF_VIEW,
    add=DEVICE_MANAGERS,
    change=DEVICE_MANAGERS,
    delete=DEVICE_ADMINS,
)
OF_DEVICE_READONLY = AccessPolicy(region_field="device__region_id", view=STAFF_VIEW)
"""Telemetry and state: visible where the device is; written only by the gateway."""

COMMAND_POLICY = AccessPolicy(
    region_field="device__region_id", view=STAFF_VIEW, add=COMMAND_ISSUERS, change=DEVICE_ADMINS
)
INBOX_POLICY = AccessPolicy(
    region_field="region_id", view=STAFF_VIEW, change=DEVICE_MANAGERS, delete=DEVICE_ADMINS
)
