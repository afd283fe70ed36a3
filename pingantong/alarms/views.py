"""Pages of the alarm centre: the live queue, the alarm screen, one-click actions, the KPIs."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pingantong.accounts.choices import Role
from pingantong.core.audit import log_read
from pingantong.core.views import (
    RestrictedDetailView,
    RestrictedListView,
    require_object_access,
    require_role,
)

from . import actions, selectors
from .choices import ACTIVE_STATUSES, MANUAL_STEPS, AlarmStatus, AlarmType, Outcome, StepKind
from .context import screen_context
from .models import Alarm

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def _console_settings() -> dict[str, Any]:
    return {
        "poll_seconds": int(getattr(settings, "PINGANTONG_ALARM_POLL_SECONDS", 10)),
        "tile_url": str(getattr(settings, "PINGANTONG_MAP_TILE_URL", "")),
    }


class QueueView(RestrictedListView):
    """The live queue: active alarms, priority then age, pushed over the websocket, re-polled."""

    model = Alarm
    template_name = "alarms/queue.html"
    context_object_name = "alarms"
    paginate_by = 200

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .filter(status__in=ACTIVE_STATUSES)
            .select_related("client", "claimed_by")
            .order_by("priority", "raised_at", "pk")
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        selectors.decorate(ctx["alarms"])
        return ctx | _console_settings() | {"L": selectors.row_labels()}


class QueueRowsView(QueueView):
    """The queue's rows alone: the polling fallback swaps these in every few seconds."""

    template_name = "alarms/_rows.html"


class HistoryView(RestrictedListView):
    """Closed and past alarms: filter by outcome, type, date, "review pending" (supervisors' worklist
    for S02 reviews and the monthly quality audit)."""

    model = Alarm
    template_name = "alarms/history.html"
    context_object_name = "alarms"
    paginate_by = 50

    def get_queryset(self):
        qs = super().get_queryset().select_related("client", "claimed_by", "closed_by", "reviewed_by")
        q = self.request.GET
        if q.get("review") == "pending":
            qs = qs.filter(review_required=True, reviewed_at__isnull=True, status=AlarmStatus.CLOSED)
        if q.get("status") in AlarmStatus.values:
            qs = qs.filter(status=q["status"])
        if q.get("alarm_type") in AlarmType.values:
            qs = qs.filter(alarm_type=q["alarm_type"])
        if q.get("outcome") in Outcome.values:
            qs = qs.filter(outcome=q["outcome"])
        if (day := parse_date(q.get("from", "") or "")) is not None:
            qs = qs.filter(raised_at__gte=datetime.combine(day, time.min, tzinfo=LOCAL_TZ))
        if (day := parse_date(q.get("to", "") or "")) is not None:
            qs = qs.filter(raised_at__lt=datetime.combine(day + timedelta(days=1), time.min, tzinfo=LOCAL_TZ))
        if text := (q.get("q") or "").strip():
            qs = qs.filter(Q(device_ident__icontains=text) | Q(client__name__icontains=text))
        return qs.order_by("-raised_at", "-pk")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx |= {
            "types": AlarmType.choices,
            "outcomes": Outcome.choices,
            "statuses": AlarmStatus.choices,
            "query": self.request.GET,
        }
        return ctx


class AlarmDetailView(RestrictedDetailView):
    """The alarm screen: client record, contacts, device health, events, map, script, timeline."""

    model = Alarm
    template_name = "alarms/detail.html"
    context_object_name = "alarm"

    def get_queryset(self):
        return super().get_queryset().select_related("client", "device", "claimed_by", "closed_by", "region")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        alarm: Alarm = self.object
        ctx |= screen_context(alarm, self.request.user) | _console_settings()
        ctx["outcomes"] = Outcome.choices
        ctx["manual_steps"] = [(k.value, k.label) for k in MANUAL_STEPS]
        if alarm.client is not None:
            # The screen shows phone, address, health and location unmasked: that read is logged (X2).
            log_read(
                user=self.request.user,
                obj=alarm.client,
                request=self.request,
                purpose="alarm handling",
                fields=["phone", "address", "health", "location", "contacts.phone"],
            )
        return ctx


class TimelineView(AlarmDetailView):
    """The timeline alone (htmx refresh after each step and on live updates)."""

    template_name = "alarms/_timeline.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super(AlarmDetailView, self).get_context_data(**kwargs)
        ctx["steps"] = selectors.timeline(self.object)
        return ctx


def _alarm_for(request: HttpRequest, pk: int, action: str) -> Alarm:
    alarm = get_object_or_404(Alarm.objects.restrict(request.user, "view"), pk=pk)
    require_object_access(request, action, alarm)
    return alarm


def _done(request: HttpRequest, alarm: Alarm, message: str | None = None) -> HttpResponse:
    if message:
        messages.success(request, message)
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = alarm_url(alarm)
        return response
    return redirect(alarm_url(alarm))


def alarm_url(alarm: Alarm) -> str:
    from django.urls import reverse

    return reverse("alarms:detail", args=[alarm.pk])


def _refused(request: HttpRequest, alarm: Alarm, exc: ValidationError) -> HttpResponse:
    text = " ".join(exc.messages)
    if request.headers.get("HX-Request"):
        return HttpResponse(text, status=409 if isinstance(exc, actions.AlarmAlreadyClaimed) else 400)
    messages.error(request, text)
    return redirect(alarm_url(alarm))


@login_required
@require_POST
def claim(request: HttpRequest, pk: int) -> HttpResponse:
    alarm = _alarm_for(request, pk, "claim")
    try:
        actions.claim_alarm(alarm_id=alarm.pk, user=request.user)
    except ValidationError as exc:
        return _refused(request, alarm, exc)
    return _done(request, alarm)


@login_required
@require_POST
def step(request: HttpRequest, pk: int) -> HttpResponse:
    alarm = _alarm_for(request, pk, "change")
    kind = request.POST.get("kind", "")
    data = {k: request.POST[k] for k in ("result", "number", "whom") if request.POST.get(k)}
    try:
        actions.record_manual_step(
            alarm_id=alarm.pk,
            user=request.user,
            kind=kind,
            note=request.POST.get("note", "").strip(),
            data=data,
        )
    except ValidationError as exc:
        return _refused(request, alarm, exc)
    return _done(request, alarm, _("Recorded: %(step)s") % {"step": StepKind(kind).label})


@login_required
@require_POST
def call(request: HttpRequest, pk: int) -> HttpResponse:
    alarm = _alarm_for(request, pk, "change")
    try:
        result = actions.place_call(
            alarm_id=alarm.pk,
            user=request.user,
            number=request.POST.get("number", ""),
            whom=request.POST.get("whom", ""),
        )
    except ValidationError as exc:
        return _refused(request, alarm, exc)
    return _done(request, alarm, _("Call: %(result)s") % {"result": result.data.get("result")})


@login_required
@require_POST
def close(request: HttpRequest, pk: int) -> HttpResponse:
    alarm = _alarm_for(request, pk, "change")
    try:
        actions.close_alarm(
            alarm_id=alarm.pk,
            user=request.user,
            outcome=request.POST.get("outcome", ""),
            note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        return _refused(request, alarm, exc)
    return _done(request, alarm, _("Alarm closed."))


@login_required
@require_POST
def review(request: HttpRequest, pk: int) -> HttpResponse:
    alarm = _alarm_for(request, pk, "review")
    try:
        actions.review_alarm(alarm_id=alarm.pk, user=request.user, note=request.POST.get("note", ""))
    except (ValidationError, PermissionDenied) as exc:
        if isinstance(exc, PermissionDenied):
            raise
        return _refused(request, alarm, exc)
    return _done(request, alarm, _("Review recorded."))


@login_required
def kpis(request: HttpRequest) -> HttpResponse:
    """The supervisor's live board (refreshes itself every few seconds through htmx)."""
    require_role(request, Role.SUPERVISOR, Role.AGENCY_ADMIN, Role.DISTRICT, Role.AUDITOR)
    template = "alarms/_kpis.html" if request.headers.get("HX-Request") else "alarms/kpis.html"
    return render(request, template, {"k": selectors.kpis(request.user)})
