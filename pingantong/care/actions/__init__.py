"""Writes of the care app. Import from here: `from pingantong.care.actions import open_task`."""

from .tasks import (
    add_task_note,
    assign_task,
    cancel_task,
    complete_task,
    escalate_task,
    open_task,
    record_attempt,
    start_task,
)

__all__ = [
    "add_task_note",
    "assign_task",
    "cancel_task",
    "complete_task",
    "escalate_task",
    "open_task",
    "record_attempt",
    "start_task",
]
