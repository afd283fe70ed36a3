"""Models of the care app, one module per aggregate."""

from .calls import CareCall
from .lifesign import DailyCoverage, LifeSign
from .plans import HolidayOverride
from .task import CARE_ADMIN, CARE_VIEW, CARE_WORK, Task, TaskEvent
from .visits import DEFAULT_CHECKLIST, Visit, VisitPhoto

__all__ = [
    "CARE_ADMIN",
    "CARE_VIEW",
    "CARE_WORK",
    "DEFAULT_CHECKLIST",
    "CareCall",
    "DailyCoverage",
    "HolidayOverride",
    "LifeSign",
    "Task",
    "TaskEvent",
    "Visit",
    "VisitPhoto",
]
