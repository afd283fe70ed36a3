"""The client (服务对象) and the people to call for them."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from pingantong.accounts.choices import ALL_ROLES, Role
from pingantong.core.access import AccessPolicy, RestrictedQuerySet
from pingantong.core.masking import mask_id_number

from .. import crypto
from ..choices import (
    AbilityGrade,
    Channel,
    ClientStatus,
    Gender,
    HomeLocationSource,
    LivingSituation,
    PayingScheme,
    Relation,
    RiskTier,
)

AGENCY_WRITERS = frozenset({Role.AGENT, Role.SUPERVISOR, Role.AGENCY_ADMIN})
# Who may see a client's full ID number (approvals, agreements, provincial reporting).
ID_REVEALERS = frozenset({Role.SUPERVISOR, Role.AGENCY_ADMIN, Role.VILLAGE, Role.TOWNSHIP, Role.DISTRICT})

CLIENT_POLICY = AccessPolicy(
    region_field="region_id",
    view=ALL_ROLES,
    add=AGENCY_WRITERS | {Role.VILLAGE},
    change=AGENCY_WRITERS | {Role.FIELD_WORKER},
    delete=frozenset(),  # clients are terminated, never deleted (P4, I1)
    export=frozenset(
        {Role.SUPERVISOR, Role.AGENCY_ADMIN, Role.VILLAGE, Role.TOWNSHIP, Role.DISTRICT, Role.AUDITOR}
    ),
    extra={
        "reveal_id": ID_REVEALERS,
        # Unmasked phone numbers: those who call or visit the client, and the committees.
        "reveal_phone": frozenset(ALL_ROLES - {Role.AUDITOR}),
        "export_unmasked": frozenset({Role.AGENCY_ADMIN, Role.DISTRICT}),
        "terminate": frozenset({Role.SUPERVISOR, Role.AGENCY_ADMIN, Role.TOWNSHIP, Role.DISTRICT}),
    },
)


class Client(models.Model):
    """An elderly person enrolled in (or applying for) the 平安通 service: what an agent reads at 3 a.m.

    The resident ID number is held only encrypted (`id_number_encrypted`), with a blind index
    (`id_number_hmac`, unique) for exact search and duplicate refusal, and a pre-masked copy for lists.
    Assign `client.id_number = "…"` (also as a constructor keyword) to set all three plus birth date
    and gender; validation (checksum, region, 60+) is the actions' job (`actions.register_client`).
    """

    name = models.CharField(pgettext_lazy("person's name", "name"), max_length=50)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True)
    id_number_encrypted = models.TextField(_("ID number (encrypted)"), blank=True, editable=False)
    id_number_hmac = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    id_number_masked = models.CharField(_("ID number"), max_length=18, blank=True, editable=False)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    household_region_code = models.CharField(
        _("household registration region"),
        max_length=12,
        blank=True,
        help_text=_("Division code of the 户籍; E1 requires a 三元区 registration for the basic package."),
    )
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        related_name="clients",
        verbose_name=_("village/community"),
    )
    address = models.CharField(_("home address"), max_length=200, blank=True)
    home_lat = models.FloatField(_("home latitude (WGS-84)"), null=True, blank=True)
    home_lon = models.FloatField(_("home longitude (WGS-84)"), null=True, blank=True)
    home_location_source = models.CharField(
        _("home location source"),
        max_length=20,
        choices=HomeLocationSource.choices,
        default=HomeLocationSource.UNKNOWN,
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    phone2 = models.CharField(_("second phone"), max_length=20, blank=True)
    dialect = models.CharField(_("dialect"), max_length=30, blank=True)
    living_situation = models.CharField(
        _("living situation"),
        max_length=20,
        choices=LivingSituation.choices,
        default=LivingSituation.ALONE,
    )
    # A list of Category values; several may apply. Filter with selectors.filter_category().
    categories = models.JSONField(_("categories"), default=list, blank=True)
    risk_tier = models.CharField(
        _("risk tier"), max_length=10, choices=RiskTier.choices, default=RiskTier.GENERAL
    )
    ability_grade = models.CharField(
        _("ability grade (GB/T 42195)"),
        max_length=12,
        choices=AbilityGrade.choices,
        default=AbilityGrade.UNASSESSED,
    )
    medical_notes = models.TextField(_("medical notes"), blank=True)
    allergies = models.CharField(_("allergies"), max_length=200, blank=True)
    key_holder = models.CharField(_("key holder"), max_length=100, blank=True)
    access_notes = models.TextField(
        _("access notes for responders"),
        blank=True,
        help_text=_("Where the key is, the dog, the back door …"),
    )
    paying_scheme = models.CharField(
        _("paying scheme"),
        max_length=20,
        choices=PayingScheme.choices,
        default=PayingScheme.BASIC_PACKAGE,
    )
    monthly_price = models.DecimalField(
        _("monthly price (yuan)"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("For self-paid clients: the agreed market price per month."),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=ClientStatus.choices, default=ClientStatus.APPLYING
    )
    # Preferences (X2, Q2): when not to call, when to call, and client-confirmed frequency overrides.
    quiet_hours_start = models.TimeField(_("quiet hours from"), null=True, blank=True)
    quiet_hours_end = models.TimeField(_("quiet hours until"), null=True, blank=True)
    preferred_call_times = models.JSONField(
        _("preferred call times"),
        default=list,
        blank=True,
        help_text=_('Windows in local time, e.g. [["09:00", "11:00"], ["15:00", "17:00"]].'),
    )
    call_interval_days = models.PositiveSmallIntegerField(
        _("care call every (days)"),
        null=True,
        blank=True,
        help_text=_("Set only from a client-confirmed frequency request; empty = default for the risk tier."),
    )
    visit_interval_days = models.PositiveSmallIntegerField(
        _("home visit every (days)"), null=True, blank=True
    )
    enrolled_at = models.DateTimeField(_("enrolled at"), null=True, blank=True)
    service_end_date = models.DateField(
        _("service ends on"),
        null=True,
        blank=True,
        help_text=_("Set by termination: no billing or tasks after."),
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    access_policy = CLIENT_POLICY
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["region", "status"], name="client_region_status"),
            models.Index(fields=["status", "risk_tier"], name="client_status_risk"),
            # Narrow covering indexes for substring search (selectors.search_clients).
            models.Index(fields=["name", "region"], name="client_name_region"),
            models.Index(fields=["phone", "phone2", "region"], name="client_phone_region"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def id_number(self) -> str:
        """The clear ID number (decrypts: log_read it when you show it)."""
        return crypto.decrypt(self.id_number_encrypted)

    @id_number.setter
    def id_number(self, value: str) -> None:
        from ..idnumber import IDNumberError, parse_id_number

        value = (value or "").strip().upper()
        if not value:
            self.id_number_encrypted, self.id_number_hmac, self.id_number_masked = "", None, ""
            return
        self.id_number_encrypted = crypto.encrypt(value)
        self.id_number_hmac = crypto.blind_index(value)
        self.id_number_masked = mask_id_number(value)
        try:
            facts = parse_id_number(value)
        except IDNumberError:
            return
        self.birth_date = facts.birth_date
        self.gender = facts.gender

    def age(self, on: dt.date | None = None) -> int | None:
        from ..idnumber import age_on, today_local

        return age_on(self.birth_date, on or today_local()) if self.birth_date else None

    @property
    def is_active(self) -> bool:
        return self.status == ClientStatus.ACTIVE

    def category_labels(self) -> list[str]:
        from ..choices import Category

        return [str(Category(c).label) for c in self.categories if c in Category.values]


class Contact(models.Model):
    """An emergency contact of a client, called in `priority` order (1 first) during an alarm (S01)."""

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("client")
    )
    name = models.CharField(pgettext_lazy("person's name", "name"), max_length=50)
    relation = models.CharField(
        _("relation"), max_length=20, choices=Relation.choices, default=Relation.CHILD
    )
    phone = models.CharField(_("phone"), max_length=20)
    phone2 = models.CharField(_("second phone"), max_length=20, blank=True)
    priority = models.PositiveSmallIntegerField(_("order"), default=1)
    available_from = models.TimeField(_("available from"), null=True, blank=True)
    available_until = models.TimeField(_("available until"), null=True, blank=True)
    availability_notes = models.CharField(_("availability"), max_length=100, blank=True)
    preferred_channel = models.CharField(
        _("preferred channel"),
        max_length=10,
        choices=Channel.choices,
        default=Channel.VOICE,
    )
    wechat_id = models.CharField(_("WeChat ID"), max_length=64, blank=True)
    is_street_designated = models.BooleanField(
        _("street-designated contact"),
        default=False,
        help_text=_("The contact designated by the township/street for a special-difficulty client (S01)."),
    )
    lives_nearby = models.BooleanField(_("lives nearby"), default=False)
    has_key = models.BooleanField(_("holds a key"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    access_policy = AccessPolicy(
        region_field="client__region_id",
        view=ALL_ROLES,
        add=AGENCY_WRITERS | {Role.VILLAGE, Role.FIELD_WORKER},
        change=AGENCY_WRITERS | {Role.VILLAGE, Role.FIELD_WORKER},
        delete=AGENCY_WRITERS | {Role.VILLAGE},
        extra={"reveal_phone": frozenset(ALL_ROLES - {Role.AUDITOR})},
    )
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["client_id", "priority", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_relation_display()})"

    def available_at(self, local_time: dt.time) -> bool:
        """Is `local_time` (Asia/Shanghai) within the contact's hours? No hours = always."""
        start, end = self.available_from, self.available_until
        if start is None or end is None:
            return True
        return start <= local_time <= end if start <= end else (local_time >= start or local_time <= end)
