"""Service-standard compliance for a month and a region (DOMAIN.md, Q1, Q2, O1, S01–S03).

Each figure is (numerator, denominator, ratio) so that a report shows what it was computed from.
Definitions (docs/reports.md):
- daily confirmation: client-days confirmed / client-days due (the daily sweep's coverage, with the
  confirmations achieved through confirmation tasks);
- 24-hour follow-ups: confirmation tasks of the month completed by their due time;
- weekly calls: served clients with an answered care call in every 7-day week of the month;
- monthly visits: served clients with at least one verified visit in the month;
- alarms answered within 60 s / 180 s: alarms raised in the month claimed within that time;
- alarms closed with an outcome: alarms raised in the month that are closed with an outcome;
- device faults fixed within 2 h: maintenance tasks opened in the month completed within 2 hours;
- staff per 1,000 clients: active agency staff of the region against the O1 minimum of 1.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, timedelta

from django.db.models import DurationField, ExpressionWrapper, F, Sum

from .periods import month_bounds


@dataclass
class Figure:
    key: str
    label: str
    numerator: float
    denominator: float
    target: float | None = None

    @property
    def ratio(self) -> float | None:
        return round(self.numerator / self.denominator, 4) if self.denominator else None

    @property
    def meets_target(self) -> bool | None:
        if self.target is None or self.ratio is None:
            return None
        return self.ratio >= self.target

    def as_dict(self) -> dict:
        return {**asdict(self), "ratio": self.ratio, "meets_target": self.meets_target}


def _within(queryset, start_field: str, end_field: str, seconds: int):
    return queryset.annotate(
        waited=ExpressionWrapper(F(end_field) - F(start_field), output_field=DurationField())
    ).filter(waited__lte=timedelta(seconds=seconds))


def compute_compliance(*, region_code: str, month: date) -> list[Figure]:
    from django.utils.translation import gettext as _

    from pingantong.accounts.choices import AGENCY_ROLES
    from pingantong.accounts.models import RoleAssignment
    from pingantong.alarms.models import Alarm
    from pingantong.care.choices import CallResult, TaskKind, TaskStatus
    from pingantong.care.models import CareCall, DailyCoverage, Task, Visit
    from pingantong.regions.models import prefix_of

    from .settlement import eligible_clients

    prefix = prefix_of(region_code)
    start, end = month_bounds(month)
    in_region = {"region__code__startswith": prefix}
    served = set(eligible_clients(region_code, month).values_list("pk", flat=True))

    coverage = DailyCoverage.objects.filter(**in_region, day__gte=start.date(), day__lt=end.date()).aggregate(
        due=Sum("due"), confirmed=Sum("confirmed_by_life_sign")
    )
    confirmations = Task.objects.filter(
        **in_region, kind=TaskKind.CONFIRMATION, created_at__gte=start, created_at__lt=end
    )
    confirmed_by_task = confirmations.filter(status=TaskStatus.DONE, outcome__startswith="confirmed").count()
    on_time = confirmations.filter(status=TaskStatus.DONE, completed_at__lte=F("due_at")).count()

    weeks = [(start + timedelta(days=7 * i), min(start + timedelta(days=7 * (i + 1)), end)) for i in range(5)]
    weeks = [(a, b) for a, b in weeks if a < end and (b - a) >= timedelta(days=7)]
    called_weeks: dict[int, set[int]] = defaultdict(set)
    for client_id, moment in CareCall.objects.filter(
        **in_region, result=CallResult.ANSWERED, at__gte=start, at__lt=end
    ).values_list("client_id", "at"):
        for index, (a, b) in enumerate(weeks):
            if a <= moment < b:
                called_weeks[client_id].add(index)
    weekly_ok = sum(1 for c in served if len(called_weeks.get(c, ())) == len(weeks))
    visited = set(
        Visit.objects.filter(
            **in_region, verified=True, completed_at__gte=start, completed_at__lt=end
        ).values_list("client_id", flat=True)
    )
    alarms = Alarm.objects.filter(**in_region, raised_at__gte=start, raised_at__lt=end)
    alarm_count = alarms.count()
    answered_60 = _within(alarms.filter(claimed_at__isnull=False), "raised_at", "claimed_at", 60).count()
    answered_180 = _within(alarms.filter(claimed_at__isnull=False), "raised_at", "claimed_at", 180).count()
    closed = alarms.filter(closed_at__isnull=False).exclude(outcome="").count()
    faults = Task.objects.filter(
        **in_region, kind=TaskKind.MAINTENANCE, created_at__gte=start, created_at__lt=end
    )
    fixed = _within(faults.filter(status=TaskStatus.DONE), "created_at", "completed_at", 2 * 3600).count()
    staff = (
        RoleAssignment.objects.filter(
            region__code__startswith=prefix[:6], role__in=AGENCY_ROLES, user__is_active=True
        )
        .values("user_id")
        .distinct()
        .count()
    )
    return [
        Figure(
            "daily_confirmation",
            _("Daily life-status confirmation"),
            (coverage["confirmed"] or 0) + confirmed_by_task,
            coverage["due"] or 0,
            1.0,
        ),
        Figure("followups_24h", _("24-hour follow-ups within deadline"), on_time, confirmations.count(), 1.0),
        Figure("weekly_calls", _("Weekly care-call coverage"), weekly_ok, len(served), 1.0),
        Figure("monthly_visits", _("Monthly visit coverage"), len(visited & served), len(served), 1.0),
        Figure("alarms_60s", _("Alarms answered within 60 s"), answered_60, alarm_count, 0.975),
        Figure("alarms_180s", _("Alarms answered within 180 s"), answered_180, alarm_count, 0.99),
        Figure("alarms_closed", _("Alarms closed with an outcome"), closed, alarm_count, 1.0),
        Figure("faults_2h", _("Device faults fixed within 2 h"), fixed, faults.count(), 1.0),
        Figure("staff_per_1000", _("Staff per 1,000 clients (O1 minimum 1)"), staff * 1000, len(served), 1.0),
    ]
