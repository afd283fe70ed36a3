"""Messages, templates and recipients' preferences.

A `Message` is one notification to one recipient over one channel, with the whole lifecycle that
"notification truth" asks for (DOMAIN.md): queued → sent → delivered → acknowledged, or failed
with the provider's reason. Each state has its own timestamp, so that the alarm centre can show
*when* a contact was reached and *whether* the person answered.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from pingantong.accounts.choices import Role
from pingantong.core.access import AccessPolicy, RestrictedQuerySet

from ..choices import ChannelKind, MessageStatus, Priority, Purpose

PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

OPERATORS = frozenset({Role.AGENT, Role.SUPERVISOR, Role.AGENCY_ADMIN, Role.SYSADMIN})
READERS = OPERATORS | {Role.DISTRICT, Role.TOWNSHIP, Role.AUDITOR}
MANAGERS = frozenset({Role.AGENCY_ADMIN, Role.SYSADMIN, Role.DISTRICT})
DEFAULT_REGION = "350404000000"  # 三元区: the pilot district; platform-wide records live here


class Template(models.Model):
    """A message text approved with the providers: Chinese text with `${param}` placeholders.

    Providers approve a template once and then accept only its code and the parameter values
    (Aliyun `TemplateCode` + `TemplateParam`, Tencent `TemplateId` + ordered `TemplateParamSet`,
    Aliyun voice `TtsCode` + `TtsParam`), so each template keeps the code it has at each provider.
    """

    code = models.SlugField(pgettext_lazy("message template code", "code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=100)
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices, default=Purpose.OTHER)
    text = models.TextField(_("text"), help_text=_("Chinese text; parameters as ${name}."))
    aliyun_sms_code = models.CharField(_("Aliyun SMS template code"), max_length=64, blank=True)
    aliyun_tts_code = models.CharField(_("Aliyun voice TTS code"), max_length=64, blank=True)
    tencent_template_id = models.CharField(_("Tencent SMS template ID"), max_length=64, blank=True)
    wechat_template_id = models.CharField(_("WeChat template ID"), max_length=128, blank=True)
    active = models.BooleanField(_("active"), default=True)
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        default=DEFAULT_REGION,
        related_name="+",
        verbose_name=_("managed in region"),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = RestrictedQuerySet.as_manager()
    access_policy = AccessPolicy(
        region_field="region__code",
        view=READERS,
        add=MANAGERS,
        change=MANAGERS,
        delete=frozenset({Role.SYSADMIN}),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"

    @property
    def param_names(self) -> list[str]:
        """The placeholders in order of first appearance (Tencent's positional order)."""
        seen: list[str] = []
        for name in PLACEHOLDER.findall(self.text):
            if name not in seen:
                seen.append(name)
        return seen

    def provider_code(self, provider: str) -> str:
        return {
            "aliyun": self.aliyun_sms_code,
            "aliyun_voice": self.aliyun_tts_code,
            "tencent": self.tencent_template_id,
            "wechat": self.wechat_template_id,
        }.get(provider, "") or self.code


class Message(models.Model):
    """One notification to one recipient over one channel, and what became of it."""

    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    channel = models.CharField(_("channel"), max_length=16, choices=ChannelKind.choices)
    provider = models.CharField(_("provider"), max_length=32, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=MessageStatus.choices, default=MessageStatus.QUEUED, db_index=True
    )
    priority = models.CharField(
        _("priority"), max_length=16, choices=Priority.choices, default=Priority.NORMAL
    )
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices, default=Purpose.OTHER)
    template = models.ForeignKey(
        Template, on_delete=models.PROTECT, null=True, blank=True, related_name="messages"
    )
    template_code = models.CharField(_("template code"), max_length=64, blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    text = models.TextField(_("text"), blank=True)
    recipient = models.CharField(_("recipient"), max_length=255, help_text=_("Phone number, openid or URL."))
    recipient_name = models.CharField(_("recipient name"), max_length=100, blank=True)
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("region"),
    )
    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("client"),
    )
    contact = models.ForeignKey(
        "clients.Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("contact"),
    )
    related = models.CharField(
        _("related object"), max_length=100, blank=True, db_index=True, help_text=_("e.g. alarm:123")
    )
    broadcast = models.ForeignKey(
        "notifications.Broadcast", on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    fallback_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="fallbacks"
    )
    require_ack = models.BooleanField(_("acknowledgement required"), default=False)
    content_hash = models.CharField(max_length=64, blank=True, db_index=True)
    provider_message_id = models.CharField(
        _("provider message id"), max_length=128, blank=True, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    failure_code = models.CharField(_("failure code"), max_length=100, blank=True)
    failure_detail = models.CharField(_("failure detail"), max_length=500, blank=True)
    ack_result = models.CharField(
        _("answer"), max_length=100, blank=True, help_text=_("Key pressed or reply text.")
    )
    queued_at = models.DateTimeField(_("queued at"), auto_now_add=True)
    not_before = models.DateTimeField(
        _("not before"), null=True, blank=True, help_text=_("Held back by quiet hours until then.")
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()
    access_policy = AccessPolicy(
        region_field="region__code", view=READERS, add=OPERATORS, change=OPERATORS, delete=frozenset()
    )

    class Meta:
        ordering = ["-queued_at", "-id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [models.Index(fields=["recipient", "queued_at"])]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.recipient_name or self.recipient} ({self.status})"

    # The text of these carries health or location data (X2): lists hide it, a detail view logs the read.
    SENSITIVE_PURPOSES = frozenset(
        {Purpose.SOS, Purpose.LOCATION, Purpose.GEOFENCE, Purpose.VITALS, Purpose.BEHAVIOUR}
    )

    @property
    def text_is_sensitive(self) -> bool:
        return self.purpose in self.SENSITIVE_PURPOSES

    @property
    def sensitive_fields(self) -> list[str]:
        if self.purpose == Purpose.VITALS:
            return ["health"]
        return ["location"] if self.text_is_sensitive else []

    @property
    def can_simulate_ack(self) -> bool:
        """The development channel's "press the key" button applies (sent or delivered, no answer yet)."""
        return self.provider == "development" and self.status in {MessageStatus.SENT, MessageStatus.DELIVERED}

    @property
    def is_final(self) -> bool:
        return self.status in {MessageStatus.ACKNOWLEDGED, MessageStatus.FAILED, MessageStatus.SUPPRESSED}


class RecipientPreference(models.Model):
    """How one recipient wants (or needs) to be reached: a voice call instead of SMS for someone
    who cannot read, quiet hours (except emergencies) and a per-recipient rate limit.

    Keyed by the address (phone number) so that it works for clients, contacts and raw numbers
    alike; the clients app's own `cannot_read` flag, where it exists, is honoured as well.
    """

    recipient = models.CharField(_("recipient"), max_length=255, unique=True)
    cannot_read = models.BooleanField(_("cannot read (call instead of SMS)"), default=False)
    quiet_start = models.TimeField(_("quiet hours start"), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet hours end"), null=True, blank=True)
    max_per_hour = models.PositiveSmallIntegerField(_("at most messages per hour"), default=10)
    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("client"),
    )
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        default=DEFAULT_REGION,
        related_name="+",
        verbose_name=_("region"),
    )

    objects = RestrictedQuerySet.as_manager()
    access_policy = AccessPolicy(
        region_field="region__code", view=READERS, add=OPERATORS, change=OPERATORS, delete=OPERATORS
    )

    class Meta:
        ordering = ["recipient"]
        verbose_name = _("recipient preference")
        verbose_name_plural = _("recipient preferences")

    def __str__(self) -> str:
        return self.recipient
