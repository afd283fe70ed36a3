"""Models of the care app, one module per aggregate."""

from .lifesign import DailyCoverage, LifeSign
from .task import CARE_ADMIN, CARE_VIEW, CARE_WORK, Task, TaskEvent

__all__ = ["CARE_ADMIN", "CARE_VIEW", "CARE_WORK", "DailyCoverage", "LifeSign", "Task", "TaskEvent"]
