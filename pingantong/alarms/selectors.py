"""Reads of the alarm centre: the queue, one alarm with its timeline, signals and the live KPIs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.utils import timezone

from .choices import ACTIVE_STATUSES, UNCLAIMED_STATUSES, AlarmStatus
from .models import Alarm, AlarmStep

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
ANSWER_TARGETS = (60, 180)  # seconds (TSA: 97.5 % within 60 s, 99 % within 180 s)


def row_labels() -> dict[str, Any]:
    """The queue row's words in the current language, translated once per language (a queue of
    50 rows would otherwise call gettext hundreds of times per render)."""
    from django.urls import reverse
    from django.utils.translation import get_language, pgettext
    from django.utils.translation import gettext as _

    from .choices import AlarmStatus, AlarmType

    lang = get_language() or ""
    cached = _LABELS.get(lang)
    if cached is None:
        cached = {
            "types": {value: str(label) for value, label in AlarmType.choices},
            "statuses": {value: str(label) for value, label in AlarmStatus.choices},
            "take": _("Take alarm"),
            "open": pgettext("alarm queue", "Open"),
            "waiting": _("Waiting"),
            "repeated": _("Repeated"),
            "unbound": _("Unbound device"),
            "escalated": _("Escalated"),
            "base": reverse("alarms:queue"),  # row links are base + id + "/…": no reverse() per row
        }
        _LABELS[lang] = cached
    return cached


_LABELS: dict[str, dict[str, Any]] = {}


def decorate(alarms: Any) -> Any:
    """Attach display values the row template needs (labels, epoch seconds) without per-row work."""
    labels = row_labels()
    for alarm in alarms:
        alarm.type_label = labels["types"].get(alarm.alarm_type, alarm.alarm_type)
        alarm.status_label = labels["statuses"].get(alarm.status, alarm.status)
        alarm.raised_epoch = int(alarm.raised_at.timestamp())
    return alarms


def _with_related(qs: QuerySet[Alarm]) -> QuerySet[Alarm]:
    return qs.select_related("client", "device", "claimed_by", "region")


def queue_alarm(alarm_id: int) -> Alarm | None:
    """One alarm as its queue row shows it (used by the live push)."""
    return _with_related(Alarm.objects.filter(pk=alarm_id)).first()


def queue_for(user: Any) -> QuerySet[Alarm]:
    """The live queue a console shows: every active alarm the user may see, priority then age."""
    return _with_related(Alarm.objects.restrict(user, "view").filter(status__in=ACTIVE_STATUSES)).order_by(
        "priority", "raised_at", "pk"
    )


def timeline(alarm: Alarm) -> QuerySet[AlarmStep]:
    return alarm.steps.select_related("actor").order_by("at", "pk")


def age_class(seconds: float) -> str:
    """Colour of an alarm's age against the 60 s / 180 s answer targets."""
    if seconds < ANSWER_TARGETS[0]:
        return "age-ok"
    if seconds < ANSWER_TARGETS[1]:
        return "age-warn"
    return "age-late"


def _local_midnight(now: datetime) -> datetime:
    local = now.astimezone(LOCAL_TZ)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _answer_rates(qs: QuerySet[Alarm]) -> dict[str, Any]:
    """Share of alarms claimed within each target (unclaimed ones past the target count as missed)."""
    now = timezone.now()
    total = qs.count()
    result: dict[str, Any] = {"total": total}
    for target in ANSWER_TARGETS:
        limit = timedelta(seconds=target)
        answered = qs.filter(claimed_at__isnull=False, claimed_at__lte=F("raised_at") + limit).count()
        # Alarms younger than the target and not yet claimed are still "in time": leave them out.
        pending = qs.filter(claimed_at__isnull=True, raised_at__gt=now - limit).count()
        judged = total - pending
        result[f"within_{target}"] = answered
        result[f"pct_{target}"] = round(100.0 * answered / judged, 1) if judged else None
    return result


def kpis(user: Any, *, now: datetime | None = None) -> dict[str, Any]:
    """The supervisor's live figures: open alarms by age, answer rates today and this month, time
    to close, alarms per agent, unclaimed now."""
    now = now or timezone.now()
    visible = Alarm.objects.restrict(user, "view")
    today = _local_midnight(now)
    month = today.replace(day=1)
    active = list(
        visible.filter(status__in=ACTIVE_STATUSES).values_list("raised_at", "status", "escalated_at")
    )
    buckets = {"lt60": 0, "lt180": 0, "lt900": 0, "gte900": 0}
    for raised_at, _status, _esc in active:
        age = (now - raised_at).total_seconds()
        key = "lt60" if age < 60 else "lt180" if age < 180 else "lt900" if age < 900 else "gte900"
        buckets[key] += 1
    alarms_month = visible.filter(raised_at__gte=month)
    closed = alarms_month.filter(status=AlarmStatus.CLOSED, closed_at__isnull=False).annotate(
        to_close=ExpressionWrapper(F("closed_at") - F("raised_at"), output_field=DurationField())
    )
    avg_close = closed.aggregate(v=Avg("to_close"))["v"]
    per_agent = list(
        alarms_month.filter(claimed_by__isnull=False)
        .values("claimed_by__username", "claimed_by__display_name")
        .annotate(
            claimed=Count("pk"),
            closed=Count("pk", filter=Q(status=AlarmStatus.CLOSED)),
            reviewed=Count("pk", filter=Q(reviewed_at__isnull=False)),
            reviewed_serious=Count("pk", filter=Q(reviewed_at__isnull=False, review_required=True)),
        )
        .order_by("-claimed")[:50]
    )
    return {
        "now": now,
        "open_total": len(active),
        "open_by_age": buckets,
        "unclaimed_now": sum(1 for _r, s, _e in active if s in UNCLAIMED_STATUSES),
        "escalated_now": sum(1 for _r, s, e in active if s in UNCLAIMED_STATUSES and e is not None),
        "today": _answer_rates(visible.filter(raised_at__gte=today)),
        "month": _answer_rates(alarms_month),
        "avg_seconds_to_close": round(avg_close.total_seconds()) if avg_close else None,
        "review_pending": visible.filter(review_required=True, reviewed_at__isnull=True).count(),
        "per_agent": [
            {
                "agent": row["claimed_by__display_name"] or row["claimed_by__username"],
                "claimed": row["claimed"],
                "closed": row["closed"],
                # Quality audit (DOMAIN.md): ≥ 2 reviewed per agent per month, one an emergency.
                "reviewed": row["reviewed"],
                "reviewed_serious": row["reviewed_serious"],
                "audit_ok": row["reviewed"] >= 2 and row["reviewed_serious"] >= 1,
            }
            for row in per_agent
        ],
    }
