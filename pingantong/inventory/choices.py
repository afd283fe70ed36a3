"""Choices of the inventory app: stable lowercase values, translated labels (STYLE.md)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class Proves(models.TextChoices):
    """What a device's messages can prove (DOMAIN.md: device alive vs person alive)."""

    DEVICE = "device", _("The device is alive")
    PERSON = "person", _("The person is alive")


class StockState(models.TextChoices):
    IN_STOCK = "in_stock", _("In stock")
    ASSIGNED = "assigned", _("Assigned to a client")
    INSTALLED = "installed", _("Installed")
    FAULTY = "faulty", _("Faulty")
    IN_REPAIR = "in_repair", _("In repair")
    REPLACED = "replaced", _("Replaced")
    RETIRED = "retired", _("Retired")


class StockAction(models.TextChoices):
    RECEIVE = "receive", _("Receive into stock")
    ASSIGN = "assign", _("Assign to a client")
    CANCEL_ASSIGNMENT = "cancel_assignment", _("Cancel the assignment")
    INSTALL = "install", _("Install")
    REPORT_FAULT = "report_fault", _("Report a fault")
    SEND_TO_REPAIR = "send_to_repair", _("Send to repair")
    RETURN_FROM_REPAIR = "return_from_repair", _("Back to stock after repair")
    REPLACE = "replace", _("Replace")
    TAKE_BACK = "take_back", _("Take back into stock")
    RETIRE = "retire", _("Retire")


class SimRealName(models.TextChoices):
    """Real-name registration of the SIM (实名登记), required before activation (D4)."""

    NOT_REGISTERED = "not_registered", _("Not registered")
    PENDING = "pending", _("Pending")
    REGISTERED = "registered", _("Registered")


class ChargeKind(models.TextChoices):
    """Why a device costs the client what it costs (F2)."""

    FIRST_BASIC_FREE = "first_basic_free", _("First basic terminal of the household: free")
    MULTI_FUNCTION_DIFFERENCE = "multi_function_difference", _("Multi-function device: price difference")
    SECOND_BASIC = "second_basic", _("Second basic terminal of the household: full price")
    ADDITIONAL_DEVICE = "additional_device", _("Additional device: full price")
    DAMAGE_REPLACEMENT = "damage_replacement", _("Replacement after damage by the client: full price")
    WARRANTY_REPLACEMENT = "warranty_replacement", _("Replacement (not the client's fault): free")


class InstallationStatus(models.TextChoices):
    OPEN = "open", _("In progress")
    DONE = "done", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class Mobility(models.TextChoices):
    INDEPENDENT = "independent", _("Walks independently")
    WITH_AID = "with_aid", _("Walks with an aid")
    BEDRIDDEN = "bedridden", _("Bedridden")


class Carrier(models.TextChoices):
    CHINA_MOBILE = "china_mobile", _("China Mobile")
    CHINA_UNICOM = "china_unicom", _("China Unicom")
    CHINA_TELECOM = "china_telecom", _("China Telecom")


class ConfirmedBy(models.TextChoices):
    CLIENT = "client", _("The client")
    FAMILY = "family", _("A family member")


class CheckResult(models.TextChoices):
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("No press or test call: check task opened")


class HealthProblem(models.TextChoices):
    NEVER_REPORTED = "never_reported", _("Never reported")
    SILENT = "silent", _("Silent longer than its type allows")
    LOW_BATTERY = "low_battery", _("Low battery")
    REMOVED = "removed", _("Taken off")
    FAULT = "fault", _("Fault reported")


TEACHING_CHECKLIST: tuple[tuple[str, Any], ...] = (
    ("press_sos", _("Press and hold SOS; the centre calls back")),
    ("answer_call", _("Answer a call from the centre")),
    ("charge", _("Charge the device (how and how often)")),
    ("wear", _("Wear it day and night, also in the bathroom")),
    ("who_to_call", _("Who to call when the device fails")),
)
"""What the installer teaches the client (D4); every item must be ticked to complete."""
