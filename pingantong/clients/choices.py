"""Choices of the clients app: stable lowercase stored values, translated labels."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Gender(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class Category(models.TextChoices):
    """The 7 categories of special-difficulty elderly people named by the pilot plan (E1)."""

    CHILDLESS = "childless", _("Widowed and childless (孤寡)")
    LIVING_ALONE = "living_alone", _("Living alone (独居)")
    EMPTY_NEST = "empty_nest", _("Empty nest (空巢)")
    LEFT_BEHIND = "left_behind", _("Left behind (留守)")
    INCAPACITATED = "incapacitated", _("Incapacitated (失能)")
    SEVERE_DISABILITY = "severe_disability", _("Severely disabled (重残)")
    FAMILY_PLANNING = "family_planning", _("Family-planning special family (计划生育特殊家庭)")


class RiskTier(models.TextChoices):
    """Drives visit frequency: high weekly, key monthly, general quarterly (民政部等10部门, 2022)."""

    HIGH = "high", _("High risk")
    KEY = "key", pgettext_lazy("client priority", "Key")
    GENERAL = "general", _("General")


class AbilityGrade(models.TextChoices):
    """Elderly ability assessment, GB/T 42195-2022: five grades (0 intact … 4 total loss)."""

    UNASSESSED = "unassessed", _("Not assessed")
    INTACT = "intact", _("Ability intact (能力完好)")
    MILD = "mild", _("Mildly impaired (轻度受损)")
    MODERATE = "moderate", _("Moderately impaired (中度受损)")
    SEVERE = "severe", _("Severely impaired (重度受损)")
    TOTAL = "total", _("Total loss (完全丧失)")


class LivingSituation(models.TextChoices):
    ALONE = "alone", _("Lives alone")
    WITH_SPOUSE = "with_spouse", _("With spouse only")
    WITH_FAMILY = "with_family", _("With children or other family")
    WITH_CARER = "with_carer", _("With a carer")
    OTHER = "other", _("Other")


class PayingScheme(models.TextChoices):
    BASIC_PACKAGE = "basic_package", _("Government basic package")
    SELF_PAID = "self_paid", _("Self-paid market service")


class ClientStatus(models.TextChoices):
    APPLYING = "applying", _("Applying")
    ACTIVE = "active", pgettext_lazy("client status", "Active")
    SUSPENDED = "suspended", pgettext_lazy("client status", "Suspended")
    TERMINATED = "terminated", _("Terminated")


class HomeLocationSource(models.TextChoices):
    UNKNOWN = "unknown", _("Unknown")
    MAP_PIN = "map_pin", _("Map pin")
    INSTALLER_CHECKIN = "installer_checkin", _("Installer's check-in")
    GEOCODED = "geocoded", _("Geocoded address")


class Relation(models.TextChoices):
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Son or daughter")
    RELATIVE = "relative", _("Other relative")
    NEIGHBOUR = "neighbour", _("Neighbour")
    FRIEND = "friend", _("Friend")
    VILLAGE_CADRE = "village_cadre", _("Village/community cadre")
    STREET_DESIGNATED = "street_designated", _("Street-designated contact (街道指定联系人)")
    OTHER = "other", _("Other")


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    VOICE = "voice", _("Voice call")
    WECHAT = "wechat", _("WeChat")


class ConsentPurpose(models.TextChoices):
    """What a client consents to (X2); see selectors.has_consent."""

    LOCATION_QUERY = "location_query", _("Location queries (S07)")
    LOCATION_SHARE = "location_share", _("Sharing location with contacts (S08)")
    HEALTH_DATA = "health_data", _("Health data (S22–S24)")
    PROVINCIAL_SYNC = "provincial_sync", _("Provincial platform data sync (I2)")


class ConsentMethod(models.TextChoices):
    WRITTEN = "written", _("Signed in writing")
    VERBAL_RECORDED = "verbal_recorded", _("Verbal, call recorded")
    IN_PERSON = "in_person", _("In person, witnessed")
    ONLINE = "online", _("Online / app")


class FrequencyKind(models.TextChoices):
    CALL = "call", _("Care call")
    VISIT = "visit", _("Home visit")


class FrequencyRequestStatus(models.TextChoices):
    AWAITING_CONFIRMATION = "awaiting_confirmation", _("Awaiting the client's confirmation")
    CONFIRMED = "confirmed", _("Confirmed by the client")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ApplicationStatus(models.TextChoices):
    """P1: village files → township approves (enrolment) or returns → district records."""

    FILED = "filed", _("Filed, awaiting the township")
    RETURNED = "returned", _("Returned to the village")
    APPROVED = "approved", _("Approved, awaiting the district")
    RECORDED = "recorded", _("Recorded by the district")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ApplicationAction(models.TextChoices):
    FILE = "file", _("Filed")
    RETURN = "return", _("Returned")
    APPROVE = "approve", _("Approved")
    RECORD = "record", _("Recorded")
    WITHDRAW = "withdraw", _("Withdrawn")


class ItemKind(models.TextChoices):
    BASIC = "basic", _("Basic")
    EXTENDED = "extended", _("Extended")


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SIGNED = "signed", _("Signed")
    ENDED = "ended", _("Ended")


class TerminationReason(models.TextChoices):
    """P4."""

    DEATH = "death", _("Client died")
    MOVED_OUT = "moved_out", _("Moved out of the district")
    AGENCY_CLOSED = "agency_closed", _("Agency ordered to close")
    OTHER = "other", _("Other")
