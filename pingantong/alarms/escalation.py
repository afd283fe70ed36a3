"""Escalation of an unclaimed alarm to the supervisors on shift: besides the mark on every screen,
an SMS through the notifications app (its channels, templates, receipts and retries), recorded as
messages (the transmissions) and as a step on the alarm's timeline.

Who: the users holding the supervisor role whose shift (the accounts app's roster, O1) is running
now and whose seat's region covers the alarm's region. When nobody is rostered (a gap in the
cover), every supervisor whose role covers the region is told instead, so that an escalation never
goes unheard; the step says which of the two it was. Once per escalation: the message's
idempotency key is the alarm and the supervisor, and `escalate_unclaimed` escalates an alarm only
once (conditional UPDATE). Decision 0106.
"""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from .choices import StepKind

log = logging.getLogger(__name__)

TEMPLATE_CODE = "alarm_escalated_supervisor"
TEMPLATE_NAME = "Unclaimed alarm escalated to the supervisor"
TEMPLATE_TEXT = (
    "【平安通】超时未接警升级：${type}警情（${who}）已等待${waited}秒无人接警，"
    "发生于${time}，请立即处理。警情编号${alarm}。"
)
MAX_RECIPIENTS = 10


def ensure_template() -> Any:
    """The message template (seeded by migration 0003; re-created after a test flush)."""
    from pingantong.notifications.models import Template

    template, _created = Template.objects.get_or_create(
        code=TEMPLATE_CODE, defaults={"name": TEMPLATE_NAME, "purpose": "sos", "text": TEMPLATE_TEXT}
    )
    return template


def _covering(code: str, field: str) -> Q:
    """Rows whose region (at `field`) is the alarm's region or one of its ancestors."""
    from pingantong.regions.models import parent_code_of

    codes = []
    current: str | None = code
    while current:
        codes.append(current)
        current = parent_code_of(current)
    return Q(**{f"{field}__in": codes})


def supervisors_on_shift(region_code: str, *, now: Any = None) -> tuple[list[Any], bool]:
    """(supervisors to tell, whether they come from the roster). Only users with a phone."""
    from pingantong.accounts.choices import Role
    from pingantong.accounts.models import RoleAssignment, Shift, User

    now = now or timezone.now()
    supervisor_ids = RoleAssignment.objects.filter(
        _covering(region_code, "region_id"), role=Role.SUPERVISOR
    ).values("user_id")
    on_shift = (
        Shift.objects.filter(_covering(region_code, "region_id"), starts_at__lte=now, ends_at__gt=now)
        .filter(user_id__in=supervisor_ids)
        .values("user_id")
    )
    base = User.objects.filter(is_active=True).exclude(phone="").order_by("pk")
    rostered = list(base.filter(pk__in=on_shift)[:MAX_RECIPIENTS])
    if rostered:
        return rostered, True
    return list(base.filter(pk__in=supervisor_ids)[:MAX_RECIPIENTS]), False


def notify_supervisors(*, alarm_id: int) -> int:
    """Send the escalation SMS for one escalated alarm (runs after the escalation's commit).
    Returns the messages queued now (0 when they were sent before: no repeats)."""
    from pingantong.notifications.actions import send_notification
    from pingantong.notifications.models import Message

    from . import centre
    from .actions import record_step
    from .models import Alarm

    alarm = Alarm.objects.select_related("client").filter(pk=alarm_id).first()
    if alarm is None or alarm.escalated_at is None:
        return 0
    if not centre.settings_for(alarm.region_id).sms_supervisor_on_escalation:
        return 0
    template = ensure_template()
    people, rostered = supervisors_on_shift(alarm.region_id)
    waited = int((alarm.escalated_at - alarm.raised_at).total_seconds())
    local = alarm.raised_at.astimezone(ZoneInfo("Asia/Shanghai"))
    params = {
        "type": alarm.get_alarm_type_display(),
        "who": alarm.client.name if alarm.client else f"未绑定设备{alarm.device_ident}",
        "waited": str(waited),
        "time": local.strftime("%m-%d %H:%M:%S"),
        "alarm": str(alarm.pk),
    }
    sent: list[dict[str, Any]] = []
    for person in people:
        key = f"alarm:{alarm.pk}:escalated:supervisor:{person.pk}"
        if Message.objects.filter(idempotency_key=key).exists():
            continue
        try:
            message = send_notification(
                recipient=person.phone,
                template=template,
                params=params,
                channel="sms",
                purpose="sos",
                priority="emergency",
                idempotency_key=key,
                related=f"alarm:{alarm.pk}",
                recipient_name=str(person),
                region_id=alarm.region_id,
            )
        except Exception as exc:  # one bad number must not keep the others from being told
            log.warning("alarm %s: escalation SMS to user %s failed: %s", alarm.pk, person.pk, exc)
            continue
        sent.append({"user_id": person.pk, "name": str(person), "message_id": message.pk})
    if sent or not people:
        record_step(
            alarm=alarm,
            kind=StepKind.SUPERVISOR_NOTIFIED,
            actor_label="supervision",
            note=", ".join(s["name"] for s in sent) if sent else "no supervisor with a phone",
            data={"recipients": sent, "on_shift": rostered},
        )
    return len(sent)
