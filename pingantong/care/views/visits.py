"""The field worker's mobile pages: today's visits on a map, and one visit's check-in, checklist,
notes, photo and the client's confirmation (S12, Q2)."""

from __future__ import annotations

import datetime as dt
import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from pingantong.core.audit import log_read
from pingantong.core.views import RestrictedListView, require_object_access

from .. import actions, config
from ..choices import VisitStatus
from ..forms import CheckInForm, CompleteVisitForm
from ..models import Task, Visit
from ..selectors.worklist import field_visits
from .tasks import _error_text


def _end_of_local_day(now: dt.datetime) -> dt.datetime:
    local = timezone.localtime(now)
    return (local.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)).astimezone(
        dt.UTC
    )


class VisitsTodayView(RestrictedListView):
    """Today's (and overdue) visits of the field worker's team, on a map and as a list."""

    model = Task
    template_name = "care/visits_today.html"
    paginate_by = 100

    def get_queryset(self):
        return field_visits(self.request.user, day_end=_end_of_local_day(timezone.now()))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tasks = list(context["object_list"])
        points = [
            {
                "id": t.pk,
                "name": t.client.name,
                "lat": t.client.home_lat,
                "lon": t.client.home_lon,
                "url": f"/care/visits/{t.pk}/",
            }
            for t in tasks
            if t.client and t.client.home_lat is not None and t.client.home_lon is not None
        ]
        for task in tasks:  # home locations and addresses are shown: record why (X2)
            if task.client is not None:
                log_read(
                    user=self.request.user,
                    obj=task.client,
                    fields=["address", "location"],
                    purpose="visit",
                    request=self.request,
                )
        context.update(
            points=points, now=timezone.now(), tile_url=getattr(settings, "PINGANTONG_MAP_TILE_URL", "")
        )
        return context


@login_required
def visit_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One visit on the phone: check in (with the browser's location), then the checklist, notes,
    photo and the client's confirmation."""
    task = get_object_or_404(Task.objects.restrict(request.user, "view").select_related("client"), pk=pk)
    require_object_access(request, "change", task)
    client = task.client
    if client is None:
        messages.error(request, _("This task has no client to visit."))
        return redirect("care:task-detail", pk=task.pk)
    visit = Visit.objects.filter(task=task, status=VisitStatus.CHECKED_IN).first()
    checkin_form, complete_form = CheckInForm(), CompleteVisitForm()
    if request.method == "POST":
        try:
            if request.POST.get("step") == "checkin":
                checkin_form = CheckInForm(request.POST)
                if not checkin_form.is_valid():
                    raise ValidationError(checkin_form.errors.get_json_data())
                data = checkin_form.cleaned_data
                actions.check_in_visit(
                    client=client,
                    by=request.user,
                    task=task if task.is_active else None,
                    latitude=data["latitude"],
                    longitude=data["longitude"],
                    accuracy_m=data["accuracy"],
                    reason=data["reason"] or "",
                )
                messages.success(request, _("Checked in."))
                return redirect("care:visit", pk=task.pk)
            if request.POST.get("step") == "complete" and visit is not None:
                complete_form = CompleteVisitForm(request.POST, request.FILES)
                if not complete_form.is_valid():
                    raise ValidationError(complete_form.errors.get_json_data())
                data = complete_form.cleaned_data
                if data.get("photo"):
                    actions.add_visit_photo(visit=visit, upload=data["photo"])
                actions.complete_visit(
                    visit=visit,
                    by=request.user,
                    checklist=complete_form.checklist(),
                    notes=data["notes"],
                    needs=data["needs"],
                    client_confirmed=data["client_confirmed"],
                    client_confirmation=data["client_confirmation"],
                )
                messages.success(request, _("Visit completed."))
                return redirect("care:visits-today")
            if request.POST.get("step") == "not_found":
                actions.record_visit_not_found(
                    task=task, by=request.user, reason=request.POST.get("reason", "")
                )
                messages.warning(request, _("Recorded and escalated."))
                return redirect("care:visits-today")
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
    log_read(
        user=request.user,
        obj=client,
        fields=["address", "location", "phone"],
        purpose="visit",
        request=request,
    )
    home = {"lat": client.home_lat, "lon": client.home_lon} if client.home_lat is not None else None
    return render(
        request,
        "care/visit.html",
        {
            "task": task,
            "client": client,
            "visit": visit,
            "checkin_form": checkin_form,
            "complete_form": complete_form,
            "radius_m": int(config.visit_checkin_radius_m()),
            "home_json": json.dumps(home),
        },
    )
