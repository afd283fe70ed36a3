"""Stable stored values of the alarm centre, with translated labels.

`AlarmType` is exactly the public alarm vocabulary (ARCHITECTURE.md), so a device alarm maps onto an
alarm type without translation. Priority 1 is the most urgent.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AlarmType(models.TextChoices):
    SOS = "sos", _("SOS")
    FALL = "fall", _("Fall")
    REMOVED = "removed", _("Wearable removed")
    LOW_BATTERY = "low_battery", _("Low battery")
    POWER_CUT = "power_cut", _("Power cut")
    POWER_OFF = "power_off", _("Powered off")
    GEOFENCE_EXIT = "geofence_exit", _("Left safe area")
    GEOFENCE_ENTER = "geofence_enter", _("Entered safe area")
    SMOKE = "smoke", _("Smoke")
    GAS = "gas", _("Gas")
    WATER_LEAK = "water_leak", _("Water leak")
    TAMPER = "tamper", _("Tamper")
    VITAL_ABNORMAL = "vital_abnormal", _("Abnormal vital signs")
    NO_ACTIVITY = "no_activity", _("No activity")
    DEVICE_OFFLINE = "device_offline", _("Device silent")
    FAULT = "fault", _("Device fault")
    OTHER = "other", _("Other")


# Default priority per type (1 = most urgent). Life-threatening first; environmental hazards that
# endanger the home are as urgent as an SOS (119 first).
DEFAULT_PRIORITY: dict[str, int] = {
    AlarmType.SOS: 1,
    AlarmType.FALL: 1,
    AlarmType.SMOKE: 1,
    AlarmType.GAS: 1,
    AlarmType.VITAL_ABNORMAL: 2,
    AlarmType.WATER_LEAK: 2,
    AlarmType.GEOFENCE_EXIT: 2,
    AlarmType.NO_ACTIVITY: 2,
    AlarmType.REMOVED: 3,
    AlarmType.DEVICE_OFFLINE: 3,
    AlarmType.POWER_CUT: 3,
    AlarmType.TAMPER: 3,
    AlarmType.OTHER: 3,
    AlarmType.FAULT: 4,
    AlarmType.POWER_OFF: 4,
    AlarmType.GEOFENCE_ENTER: 5,
    AlarmType.LOW_BATTERY: 5,
}
LOWEST_PRIORITY = 5

# Device conditions that are recorded but never interrupt an agent (DOMAIN.md "alarm" vs "signal").
SIGNAL_TYPES = frozenset(
    {AlarmType.LOW_BATTERY, AlarmType.POWER_OFF, AlarmType.GEOFENCE_ENTER, AlarmType.FAULT}
)


class AlarmStatus(models.TextChoices):
    """Escalation is not a status but a mark (`Alarm.escalated_at`): an escalated alarm is still
    open, so `GET /api/v1/alarms/?status=open` (public contract) keeps listing it."""

    OPEN = "open", pgettext_lazy("alarm status", "Open")
    CLAIMED = "claimed", pgettext_lazy("alarm status", "Claimed")
    CLOSED = "closed", pgettext_lazy("alarm status", "Closed")


# Statuses of an alarm still waiting for someone to take it.
UNCLAIMED_STATUSES = (AlarmStatus.OPEN,)
ACTIVE_STATUSES = (AlarmStatus.OPEN, AlarmStatus.CLAIMED)


class Outcome(models.TextChoices):
    FALSE_ALARM = "false_alarm", _("False alarm")
    RESOLVED_BY_PHONE = "resolved_by_phone", _("Resolved by phone")
    FAMILY_ATTENDED = "family_attended", _("Family attended")
    COMMUNITY_ATTENDED = "community_attended", _("Community/street attended")
    AMBULANCE = "ambulance", _("Ambulance (120)")
    POLICE = "police", _("Police (110)")
    FIRE = "fire", _("Fire brigade (119)")
    HOSPITAL = "hospital", _("Taken to hospital")
    DEATH = "death", _("Death")
    ONSITE_VISIT = "onsite_visit", _("Cannot close remotely: on-site visit")
    TECHNICAL = "technical", _("Device/technical issue")


# Outcomes a supervisor must review before the case counts as done (S02).
SERIOUS_OUTCOMES = frozenset(
    {Outcome.AMBULANCE, Outcome.POLICE, Outcome.FIRE, Outcome.HOSPITAL, Outcome.DEATH, Outcome.ONSITE_VISIT}
)


class StepKind(models.TextChoices):
    RAISED = "raised", _("Raised")
    REPEATED = "repeated", _("Repeated (joined)")
    PUSHED = "pushed", _("Pushed to consoles")
    ESCALATED = "escalated", _("Escalated to supervisor")
    SUPERVISOR_NOTIFIED = "supervisor_notified", _("Supervisor notified by SMS")
    CLAIMED = "claimed", _("Claimed")
    CALLED_CLIENT = "called_client", _("Called the client back")
    CONTACTED_FAMILY = "contacted_family", _("Contacted family")
    CALLED_120 = "called_120", _("Called 120")
    CALLED_110 = "called_110", _("Called 110")
    CALLED_119 = "called_119", _("Called 119")
    COMMUNITY_INFORMED = "community_informed", _("Community/street informed")
    RESPONDER_DISPATCHED = "responder_dispatched", _("Responder dispatched")
    ON_SCENE = "on_scene", _("Responder on scene")
    RESOLVED = "resolved", _("Resolved")
    CALL_PLACED = "call_placed", _("Call placed")
    CALL_RESULT = "call_result", _("Call outcome")
    NOTIFICATION_SENT = "notification_sent", _("Notification sent")
    NOTIFICATION_DELIVERED = "notification_delivered", _("Notification delivered")
    NOTIFICATION_ACKNOWLEDGED = "notification_acknowledged", _("Notification acknowledged")
    NOTIFICATION_FAILED = "notification_failed", _("Notification failed")
    CASCADE_EXHAUSTED = "cascade_exhausted", _("No contact acknowledged")
    VISIT_TASK_OPENED = "visit_task_opened", _("On-site visit task opened")
    NOTE = "note", _("Note")
    CLOSED = "closed", _("Closed")
    REVIEWED = "reviewed", _("Reviewed")


# One-click steps an agent records from the alarm screen.
MANUAL_STEPS = (
    StepKind.CALLED_CLIENT,
    StepKind.CONTACTED_FAMILY,
    StepKind.CALLED_120,
    StepKind.CALLED_110,
    StepKind.CALLED_119,
    StepKind.COMMUNITY_INFORMED,
    StepKind.RESPONDER_DISPATCHED,
    StepKind.ON_SCENE,
    StepKind.RESOLVED,
    StepKind.CALL_RESULT,
    StepKind.NOTE,
)


class CallResult(models.TextChoices):
    ANSWERED = "answered", _("Answered")
    NO_ANSWER = "no_answer", _("No answer")
    BUSY = "busy", _("Busy")
    FAILED = "failed", _("Failed")
