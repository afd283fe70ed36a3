"""Writes of the care app. Import from here: `from pingantong.care.actions import open_task`."""

from .calls import record_automated_call_result, record_care_call
from .confirmation import advance_confirmation, escalate_overdue_tasks, run_daily_confirmation
from .lifesigns import record_life_sign
from .schedule import schedule_care_work
from .support import (
    clear_intervention_flag,
    flag_for_intervention,
    record_attendance,
    record_counselling_session,
    record_referral_outcome,
    refer_client,
    sign_up_for_activity,
)
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
from .visits import add_visit_photo, check_in_visit, complete_visit, record_visit_not_found

__all__ = [
    "add_task_note",
    "add_visit_photo",
    "advance_confirmation",
    "assign_task",
    "cancel_task",
    "check_in_visit",
    "clear_intervention_flag",
    "complete_task",
    "complete_visit",
    "escalate_overdue_tasks",
    "escalate_task",
    "flag_for_intervention",
    "open_task",
    "record_attempt",
    "record_attendance",
    "record_automated_call_result",
    "record_care_call",
    "record_counselling_session",
    "record_life_sign",
    "record_referral_outcome",
    "record_visit_not_found",
    "refer_client",
    "run_daily_confirmation",
    "schedule_care_work",
    "sign_up_for_activity",
    "start_task",
]
