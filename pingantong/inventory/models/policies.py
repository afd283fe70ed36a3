"""Who may see and manage inventory data (pingantong.core.access).

Stock sits in the region of its store (a town, or the district) while on the shelf and takes the
client's region when assigned, so field workers see the shelf and the homes of their town.
"""

from __future__ import annotations

from pingantong.accounts.choices import Role
from pingantong.core.access import AccessPolicy

VIEWERS = frozenset(
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
FIELD = frozenset({Role.FIELD_WORKER, Role.SUPERVISOR, Role.AGENCY_ADMIN, Role.SYSADMIN})
ADMINS = frozenset({Role.AGENCY_ADMIN, Role.SYSADMIN})
MONEY_VIEWERS = frozenset(
    {Role.FIELD_WORKER, Role.SUPERVISOR, Role.AGENCY_ADMIN, Role.TOWNSHIP, Role.DISTRICT, Role.AUDITOR}
)

STOCK_POLICY = AccessPolicy(region_field="region_id", view=VIEWERS, add=FIELD, change=FIELD, delete=ADMINS)
HISTORY_POLICY = AccessPolicy(region_field="region_id", view=VIEWERS)
CHARGE_POLICY = AccessPolicy(region_field="region_id", view=MONEY_VIEWERS, change=ADMINS)
INSTALLATION_POLICY = AccessPolicy(
    region_field="region_id", view=VIEWERS, add=FIELD, change=FIELD, delete=ADMINS
)
PHOTO_POLICY = AccessPolicy(
    region_field="installation__region_id", view=VIEWERS - {Role.AGENT}, add=FIELD, delete=ADMINS
)
CHECK_POLICY = AccessPolicy(region_field="region_id", view=VIEWERS, add=FIELD)
