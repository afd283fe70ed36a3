"""Alarms (need a human), signals (recorded only), the alarm timeline, and per-client rule settings.

An `Alarm` is a case in the alarm receiving centre: raised by a rule from a device event (or by hand),
claimed by exactly one agent, worked through its steps and closed with an outcome (S01–S03). Its
`AlarmStep` rows are the evidence of the closed loop: every step has a time and an actor.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pingantong.accounts.choices import Role
from pingantong.core.access import AccessPolicy, RestrictedQuerySet

from .choices import AlarmStatus, AlarmType, Outcome, StepKind

CONSOLE_ROLES = frozenset({Role.AGENT, Role.SUPERVISOR, Role.AGENCY_ADMIN})
OVERSIGHT_ROLES = frozenset({Role.DISTRICT, Role.TOWNSHIP, Role.AUDITOR})

ALARM_POLICY = AccessPolicy(
    region_field="region_id",
    view=CONSOLE_ROLES | OVERSIGHT_ROLES,
    add=CONSOLE_ROLES,
    change=CONSOLE_ROLES,
    delete=frozenset(),
    extra={"claim": CONSOLE_ROLES, "review": frozenset({Role.SUPERVISOR, Role.AGENCY_ADMIN})},
)


class Alarm(models.Model):
    """One case in the alarm queue: what happened, to whom, who took it and how it ended."""

    alarm_type = models.CharField(_("alarm type"), max_length=20, choices=AlarmType.choices, db_index=True)
    detail = models.CharField(_("detail"), max_length=60, blank=True, help_text=_("rule-specific sub-type"))
    priority = models.PositiveSmallIntegerField(_("priority"), default=3, help_text=_("1 is most urgent"))
    status = models.CharField(
        _("status"), max_length=12, choices=AlarmStatus.choices, default=AlarmStatus.OPEN, db_index=True
    )
    device_ident = models.CharField(
        _("device id"), max_length=64, blank=True, db_index=True, help_text=_("the id the device reports")
    )
    device = models.ForeignKey(
        "devices.Device",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alarms",
        verbose_name=_("device"),
    )
    client = models.ForeignKey(
        "clients.Client",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alarms",
        verbose_name=_("client"),
    )
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region")
    )
    from_unbound_device = models.BooleanField(_("from an unbound device"), default=False)
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now, db_index=True)
    last_occurrence_at = models.DateTimeField(_("last occurrence"), default=timezone.now)
    occurrences = models.PositiveIntegerField(_("occurrences"), default=1)
    source_event_ids = models.JSONField(_("source events"), default=list, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("claimed by"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("closed by"),
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    review_required = models.BooleanField(_("review required"), default=False)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    review_note = models.TextField(_("review note"), blank=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    access_policy = ALARM_POLICY
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("alarm")
        verbose_name_plural = _("alarms")
        ordering = ["priority", "raised_at"]
        indexes = [models.Index(fields=["status", "priority", "raised_at"], name="alarm_queue_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_alarm_type_display()} ({self.device_ident or '-'})"

    @property
    def is_unclaimed(self) -> bool:
        return self.status == AlarmStatus.OPEN


class AlarmStep(models.Model):
    """One timestamped thing that happened to an alarm, and who did it (the closed-loop evidence)."""

    alarm = models.ForeignKey(Alarm, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(_("step"), max_length=30, choices=StepKind.choices)
    at = models.DateTimeField(_("at"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_label = models.CharField(_("system actor"), max_length=40, blank=True)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    access_policy = AccessPolicy(
        region_field="alarm__region_id", view=ALARM_POLICY.view, add=CONSOLE_ROLES, change=frozenset()
    )
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("alarm step")
        verbose_name_plural = _("alarm steps")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} @ {self.at:%Y-%m-%d %H:%M:%S}"

    @property
    def actor_name(self) -> str:
        return str(self.actor) if self.actor_id else (self.actor_label or "system")


class Signal(models.Model):
    """A device condition recorded without interrupting an agent (low battery, powered off…)."""

    signal_type = models.CharField(_("signal"), max_length=20, choices=AlarmType.choices, db_index=True)
    device_ident = models.CharField(_("device id"), max_length=64, db_index=True)
    device = models.ForeignKey(
        "devices.Device", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    client = models.ForeignKey(
        "clients.Client", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now, db_index=True)
    source_event_id = models.CharField(max_length=40, blank=True)
    data = models.JSONField(default=dict, blank=True)

    access_policy = AccessPolicy(region_field="region_id", view=ALARM_POLICY.view)
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("signal")
        verbose_name_plural = _("signals")
        ordering = ["-recorded_at"]

    def __str__(self) -> str:
        return f"{self.get_signal_type_display()} {self.device_ident}"


class AlarmSettings(models.Model):
    """A client's settings of the alarm rules: vital-sign limits and safe areas (S10, S23).

    Missing limits fall back to `rules.DEFAULT_VITAL_LIMITS`. `safe_areas` is a list of
    `{"name", "circle": [lat, lon, radius_m]}` or `{"name", "polygon": [[lat, lon], ...]}` (WGS-84).
    """

    client = models.OneToOneField(
        "clients.Client", on_delete=models.CASCADE, related_name="alarm_settings", verbose_name=_("client")
    )
    vital_limits = models.JSONField(_("vital-sign limits"), default=dict, blank=True)
    safe_areas = models.JSONField(_("safe areas"), default=list, blank=True)
    geofence_dwell_seconds = models.PositiveIntegerField(_("dwell before a geofence alarm (s)"), default=300)
    geofence_max_accuracy_m = models.PositiveIntegerField(_("worst usable fix accuracy (m)"), default=100)
    night_start_hour = models.PositiveSmallIntegerField(_("night starts (hour)"), default=22)
    night_end_hour = models.PositiveSmallIntegerField(_("night ends (hour)"), default=6)
    door_open_night_minutes = models.PositiveIntegerField(_("door open at night (min)"), default=15)
    no_motion_hours = models.PositiveIntegerField(_("no motion (hours)"), default=12)

    access_policy = AccessPolicy(
        region_field="client__region_id", view=ALARM_POLICY.view, add=CONSOLE_ROLES, change=CONSOLE_ROLES
    )
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("alarm settings")
        verbose_name_plural = _("alarm settings")

    def __str__(self) -> str:
        return f"alarm settings of {self.client}"


class ContactAttempt(models.Model):
    """One step of an alarm's contact cascade (S01, S08): who was alerted, through which message,
    and until when we wait for them to *acknowledge* before the next contact is tried."""

    class State(models.TextChoices):
        WAITING = "waiting", _("Waiting for acknowledgement")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        TIMED_OUT = "timed_out", _("Not acknowledged in time")
        FAILED = "failed", _("Failed")
        STOPPED = "stopped", _("Stopped (alarm closed)")
        INFORMED = "informed", _("Informed (no acknowledgement awaited)")

    alarm = models.ForeignKey(Alarm, on_delete=models.CASCADE, related_name="contact_attempts")
    contact = models.ForeignKey("clients.Contact", on_delete=models.SET_NULL, null=True, related_name="+")
    order = models.PositiveSmallIntegerField(_("order"))
    street_designated = models.BooleanField(_("street-designated contact"), default=False)
    message = models.ForeignKey(
        "notifications.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    state = models.CharField(_("state"), max_length=14, choices=State.choices, default=State.WAITING)
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    ack_deadline = models.DateTimeField(_("acknowledge by"))
    delivered_recorded = models.BooleanField(default=False)
    finished_at = models.DateTimeField(null=True, blank=True)

    access_policy = AccessPolicy(region_field="alarm__region_id", view=ALARM_POLICY.view)
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact attempt")
        verbose_name_plural = _("contact attempts")
        ordering = ["alarm_id", "order", "pk"]
        indexes = [models.Index(fields=["state", "ack_deadline"], name="cascade_due_idx")]

    def __str__(self) -> str:
        return f"alarm {self.alarm_id} contact #{self.order} {self.state}"


CENTRE_SETTINGS_EDITORS = frozenset({Role.SUPERVISOR, Role.AGENCY_ADMIN})


class AlarmCentreSettings(models.Model):
    """How the alarm centre works in a region: when an unclaimed alarm escalates, how long the
    contact cascade waits for an acknowledgement, how close repeats join the open alarm, and
    whether the supervisors on shift get an SMS on escalation.

    A row applies to its region's whole subtree; the nearest region with a row wins, and without one
    the deployment's settings (`PINGANTONG_ALARM_ESCALATE_SECONDS` …) apply (see `centre.py`).
    Edited by the agency's supervisors and administrators on `/alarms/settings/`; every change is
    in the audit log.
    """

    region = models.OneToOneField(
        "regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region")
    )
    escalate_after_seconds = models.PositiveIntegerField(
        _("escalate an unclaimed alarm after (s)"),
        validators=[MinValueValidator(10), MaxValueValidator(3600)],
    )
    cascade_ack_seconds = models.PositiveIntegerField(
        _("wait for a contact's acknowledgement (s)"),
        validators=[MinValueValidator(30), MaxValueValidator(3600)],
    )
    join_window_seconds = models.PositiveIntegerField(
        _("repeats join the open alarm within (s)"),
        validators=[MinValueValidator(60), MaxValueValidator(86400)],
    )
    sms_supervisor_on_escalation = models.BooleanField(
        _("SMS to the supervisors on shift when an alarm escalates"), default=True
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("updated by"),
    )

    access_policy = AccessPolicy(
        region_field="region_id",
        view=CONSOLE_ROLES | OVERSIGHT_ROLES,
        add=CENTRE_SETTINGS_EDITORS,
        change=CENTRE_SETTINGS_EDITORS,
        delete=CENTRE_SETTINGS_EDITORS,
    )
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("alarm centre settings")
        verbose_name_plural = _("alarm centre settings")

    def __str__(self) -> str:
        return f"alarm centre settings of {self.region_id}"
