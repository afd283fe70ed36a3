"""Choices of the care app: stable lowercase stored values with translated labels."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class TaskKind(models.TextChoices):
    CONFIRMATION = "confirmation", _("Life-status confirmation")
    CARE_CALL = "care_call", _("Care call")
    VISIT = "visit", _("Home visit")
    EMERGENCY_VISIT = "emergency_visit", _("On-site emergency visit")
    MAINTENANCE = "maintenance", _("Device maintenance")
    REFERRAL = "referral", _("Referral")
    FOLLOW_UP = "follow_up", _("Follow-up")


class TaskStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("care status", "Open")
    IN_PROGRESS = "in_progress", pgettext_lazy("care status", "In progress")
    ESCALATED = "escalated", _("Escalated")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


ACTIVE_STATUSES = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS, TaskStatus.ESCALATED)


class TaskSource(models.TextChoices):
    SCHEDULE = "schedule", _("Schedule")
    ALARM = "alarm", _("Alarm")
    DEVICE = "device", _("Device")
    CALL = "call", _("Care call")
    VISIT = "visit", _("Visit")
    COUNSELLING = "counselling", _("Counselling")
    MANUAL = "manual", _("Manual")


class TaskStep(models.TextChoices):
    """Where a confirmation task stands in its chain: automated call, then an agent, then a visit."""

    NONE = "", _("—")
    AUTOMATED_CALL = "automated_call", _("Automated call")
    AGENT_CALL = "agent_call", _("Agent's call")
    VISIT = "visit", _("Visit")
    SUPERVISOR = "supervisor", _("Supervisor")


class TaskOutcome(models.TextChoices):
    CONFIRMED_WELL = "confirmed_well", _("Confirmed: all well")
    CONFIRMED_NEEDS_HELP = "confirmed_needs_help", _("Confirmed: needs help")
    COMPLETED = "completed", _("Completed")
    NO_ANSWER = "no_answer", _("No answer")
    NOT_AT_HOME = "not_at_home", _("Not at home")
    HOSPITALISED = "hospitalised", _("In hospital")
    REFERRED = "referred", _("Referred")
    UNREACHABLE = "unreachable", _("Unreachable")
    CANCELLED = "cancelled", _("Cancelled")
    OTHER = "other", _("Other")


CONFIRMING_OUTCOMES = (TaskOutcome.CONFIRMED_WELL, TaskOutcome.CONFIRMED_NEEDS_HELP, TaskOutcome.COMPLETED)


class TaskEventKind(models.TextChoices):
    OPENED = "opened", _("Opened")
    ASSIGNED = "assigned", _("Assigned")
    STARTED = "started", _("Started")
    ATTEMPT = "attempt", _("Attempt")
    ESCALATED = "escalated", _("Escalated")
    NOTE = "note", _("Note")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class LifeSignSource(models.TextChoices):
    """What proved the *person* alive. A heartbeat is not one: it proves only the device (S04, S05)."""

    STEPS = "steps", _("Step count")
    MOVEMENT = "movement", _("Movement / position change")
    VITALS = "vitals", _("Vital signs")
    SOS = "sos", _("SOS / button press")
    CALL_ANSWERED = "call_answered", _("Answered call")
    DOOR_SENSOR = "door_sensor", _("Door sensor")
    MOTION_SENSOR = "motion_sensor", _("Motion sensor")
    VISIT = "visit", _("Visit")
    OTHER = "other", _("Other")


class CallMode(models.TextChoices):
    HUMAN = "human", _("Agent")
    AUTOMATED = "automated", _("Automated (voice)")


class CallResult(models.TextChoices):
    ANSWERED = "answered", _("Answered")
    NO_ANSWER = "no_answer", _("No answer")
    BUSY = "busy", _("Busy")
    FAILED = "failed", _("Failed")


class Mood(models.TextChoices):
    GOOD = "good", _("Good")
    FAIR = "fair", _("Fair")
    LOW = "low", _("Low")
    DISTRESSED = "distressed", _("Distressed")


class HealthStatus(models.TextChoices):
    GOOD = "good", _("Good")
    FAIR = "fair", _("Fair")
    POOR = "poor", _("Poor")
    URGENT = "urgent", _("Needs urgent attention")


class VisitStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    CHECKED_IN = "checked_in", _("Checked in")
    COMPLETED = "completed", _("Completed")
    MISSED = "missed", _("Missed")


class FrequencyKind(models.TextChoices):
    CALL = "call", _("Care calls")
    VISIT = "visit", _("Visits")


class ReferralKind(models.TextChoices):
    SOCIAL_WORK = "social_work", _("Social-work station")
    PARTNER = "partner", _("Partner organisation")
    MEDICAL_ONLINE = "medical_online", _("Online medical service")


class ReferralStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("care status", "Open")
    ACCEPTED = "accepted", _("Accepted")
    COMPLETED = "completed", _("Completed")
    DECLINED = "declined", _("Declined")


class DirectoryCategory(models.TextChoices):
    CARE_HOME = "care_home", _("Care home")
    COMMUNITY_SERVICE = "community_service", _("Community service")
    POLICY = "policy", _("Policy")
    MEDICAL = "medical", _("Medical service")
    OTHER = "other", _("Other")


class Need(models.TextChoices):
    """Needs an agent or visitor can note; each noted need becomes a follow-up task."""

    MEDICAL = "medical", _("Medical care")
    DAILY_LIVING = "daily_living", _("Daily living help")
    PSYCHOLOGICAL = "psychological", _("Psychological support")
    FINANCIAL = "financial", _("Financial / benefits")
    HOME_REPAIR = "home_repair", _("Home repair / safety")
    DEVICE = "device", _("Terminal problem")
    OTHER = "other", _("Other")


class CounsellingMode(models.TextChoices):
    PHONE = "phone", _("Phone")
    ONLINE = "online", _("Online / video")
    IN_PERSON = "in_person", _("In person")


class PartnerKind(models.TextChoices):
    SOCIAL_WORK_STATION = "social_work_station", _("Social-work station (社工站)")
    CARE_HOME = "care_home", _("Care home")
    MEDICAL = "medical", _("Medical / online medical service")
    COMMUNITY = "community", _("Community service")
    OTHER = "other", _("Other")


class ActivityKind(models.TextChoices):
    HEALTH_TALK = "health_talk", _("Health talk")
    CONSULTATION = "consultation", _("Consultation")
    SOCIAL = "social", _("Social gathering")
    OTHER = "other", _("Other")
