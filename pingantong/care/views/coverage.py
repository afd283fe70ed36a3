"""Daily confirmation coverage per region (Q1): confirmed / due, today or another day."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_date

from pingantong.core.views import require_role

from ..models import CARE_VIEW
from ..selectors.coverage import coverage_by_region


@login_required
def coverage_page(request: HttpRequest) -> HttpResponse:
    require_role(request, *CARE_VIEW)
    day = parse_date(request.GET.get("day", "") or "") or timezone.localdate()
    region = request.GET.get("region") or None
    try:
        rows, total = coverage_by_region(request.user, day=day, region=region)
    except (ValueError, KeyError):
        rows, total = coverage_by_region(request.user, day=day)
    return render(request, "care/coverage.html", {"rows": rows, "total": total, "day": day})
