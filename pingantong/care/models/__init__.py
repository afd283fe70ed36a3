"""Models of the care app, one module per aggregate."""

from .calls import CareCall
from .lifesign import DailyCoverage, LifeSign
from .plans import HolidayOverride
from .support import (
    Activity,
    ActivitySignup,
    CounsellingSession,
    DirectoryEntry,
    InterventionFlag,
    PartnerOrganisation,
    Referral,
)
from .task import CARE_ADMIN, CARE_VIEW, CARE_WORK, Task, TaskEvent
from .visits import DEFAULT_CHECKLIST, Visit, VisitPhoto

__all__ = [
    "CARE_ADMIN",
    "CARE_VIEW",
    "CARE_WORK",
    "DEFAULT_CHECKLIST",
    "Activity",
    "ActivitySignup",
    "CareCall",
    "CounsellingSession",
    "DailyCoverage",
    "DirectoryEntry",
    "HolidayOverride",
    "InterventionFlag",
    "LifeSign",
    "PartnerOrganisation",
    "Referral",
    "Task",
    "TaskEvent",
    "Visit",
    "VisitPhoto",
]
