"""Roles of the platform. A role is always held *for a region* (see RoleAssignment)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    AGENT = "agent", _("Agent (坐席)")
    FIELD_WORKER = "field_worker", _("Field worker (服务人员)")
    SUPERVISOR = "supervisor", _("Agency supervisor")
    AGENCY_ADMIN = "agency_admin", _("Agency administrator")
    VILLAGE = "village", _("Village/community committee")
    TOWNSHIP = "township", _("Township/street")
    DISTRICT = "district", _("District civil-affairs bureau")
    AUDITOR = "auditor", _("Auditor (read-only)")
    SYSADMIN = "sysadmin", _("System administrator")


AGENCY_ROLES = frozenset({Role.AGENT, Role.FIELD_WORKER, Role.SUPERVISOR, Role.AGENCY_ADMIN})
GOVERNMENT_ROLES = frozenset({Role.VILLAGE, Role.TOWNSHIP, Role.DISTRICT})
ALL_ROLES = frozenset(Role)
STAFF_ROLES = ALL_ROLES  # every role that may log in and read, within its region
