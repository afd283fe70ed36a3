"""Choices of the notifications app: stable lowercase values, translated labels."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ChannelKind(models.TextChoices):
    SMS = "sms", _("SMS")
    VOICE = "voice", _("Voice call with keypress")
    WECHAT = "wechat", _("WeChat template message")
    WEBHOOK = "webhook", _("Signed webhook")


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    FAILED = "failed", _("Failed")
    SUPPRESSED = "suppressed", _("Suppressed")  # deduplicated or rate-limited: never sent


class Priority(models.TextChoices):
    EMERGENCY = "emergency", _("Emergency")
    NORMAL = "normal", _("Normal")


class Purpose(models.TextChoices):
    """Why a message is sent; requirement IDs in comments."""

    SOS = "sos", _("Emergency call for help")  # S01
    LOCATION = "location", _("Location sharing")  # S08
    GEOFENCE = "geofence", _("Left the safe area")  # S10
    VITALS = "vitals", _("Abnormal vital signs")  # S23
    BEHAVIOUR = "behaviour", _("Abnormal behaviour")  # S26, S28
    WEATHER = "weather", _("Extreme weather")  # S13
    FRAUD = "fraud", _("Fraud warning")  # S14
    POLICY = "policy", _("Policy notice")  # S15
    CARE = "care", _("Care call")  # S11
    OTHER = "other", _("Other")


class BroadcastKind(models.TextChoices):
    WEATHER = "weather", _("Extreme weather (S13)")
    FRAUD = "fraud", _("Fraud alert (S14)")
    POLICY = "policy", _("Policy notice (S15)")


class BroadcastStatus(models.TextChoices):
    DRAFT = "draft", _("Draft, awaiting approval")
    APPROVED = "approved", _("Approved")
    SENDING = "sending", _("Sending")
    DONE = "done", _("Sent")
    CANCELLED = "cancelled", _("Cancelled")


class BroadcastSource(models.TextChoices):
    STAFF = "staff", _("Entered by staff")
    CAP = "cap", _("CAP weather warning")
    WEBHOOK = "webhook", _("Anti-fraud channel webhook")
