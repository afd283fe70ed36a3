"""Pages: settlements (with drill-down to the evidence), compliance, progress and downloads."""

from __future__ import annotations

import json
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from pingantong.core.access import user_may, user_may_in_region
from pingantong.core.audit import log_export
from pingantong.core.views import require_role
from pingantong.regions.models import prefix_of

from . import actions
from .compliance import compute_compliance
from .dashboard import dashboard_figures
from .exports import iter_settlement_lines, pdf_response, xlsx_response
from .models import READERS, Settlement, SettlementLine
from .periods import parse_month
from .progress import annual_summary, progress_by_town

DISTRICT_CODE = "350404000000"
EVIDENCE_LABELS = {
    "confirmations": gettext_lazy("Life-status confirmations"),
    "calls": gettext_lazy("Answered care calls"),
    "visits": gettext_lazy("Verified visits"),
    "alarms": gettext_lazy("Alarms handled"),
    "life_signs": gettext_lazy("Life signs"),
    "installations": gettext_lazy("Installations"),
    "charges": gettext_lazy("Charges"),
}


def _region(request: HttpRequest) -> str:
    code = request.GET.get("region", "") or DISTRICT_CODE
    if not user_may_in_region(request.user, "view", Settlement, code):
        raise PermissionDenied
    return code


@login_required
def index(request: HttpRequest) -> HttpResponse:
    require_role(request, *READERS)
    settlements = Settlement.objects.restrict(request.user, "view").select_related("region")[:36]
    return render(
        request, "reports/index.html", {"settlements": settlements, "default_month": _default_month()}
    )


def _default_month() -> str:
    today = timezone.localdate()
    first = today.replace(day=1)
    previous = (
        first.replace(year=first.year - 1, month=12)
        if first.month == 1
        else first.replace(month=first.month - 1)
    )
    return f"{previous:%Y-%m}"


@login_required
def prepare(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return redirect("reports:index")
    try:
        month = parse_month(request.POST.get("month", ""))
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect("reports:index")
    code = request.POST.get("region") or DISTRICT_CODE
    if not user_may_in_region(request.user, "add", Settlement, code):
        raise PermissionDenied
    try:
        settlement = actions.prepare_settlement(region_code=code, month=month)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("reports:index")
    messages.success(request, _("Settlement computed from the service records."))
    return redirect("reports:settlement", pk=settlement.pk)


@login_required
def settlement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    settlement = get_object_or_404(
        Settlement.objects.restrict(request.user, "view").select_related("region"), pk=pk
    )
    lines = settlement.lines.all()
    kind = request.GET.get("kind")
    if kind:
        lines = lines.filter(kind=kind)
    if request.GET.get("queried"):
        lines = lines.filter(queried_at__isnull=False)
    page_lines = list(lines[:500])
    for line in page_lines:
        line.evidence_rows = [  # type: ignore[attr-defined]
            (EVIDENCE_LABELS.get(k, k), v, (line.evidence or {}).get(k, []))
            for k, v in sorted((line.evidence or {}).get("counts", {}).items())
        ]
    return render(
        request,
        "reports/settlement.html",
        {
            "settlement": settlement,
            "lines": page_lines,
            "line_count": lines.count(),
            "may_submit": user_may(request.user, "submit", settlement),
            "may_review": user_may(request.user, "review", settlement),
        },
    )


@login_required
def settlement_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    settlement = get_object_or_404(Settlement.objects.restrict(request.user, "view"), pk=pk)
    if request.method != "POST":
        return redirect("reports:settlement", pk=pk)
    needed = {"submit": "submit", "approve": "review", "return": "review", "recompute": "submit"}.get(action)
    if needed is None or not user_may(request.user, needed, settlement):
        raise PermissionDenied
    try:
        if action == "submit":
            actions.submit_settlement(settlement=settlement, user=request.user)
        elif action == "approve":
            actions.approve_settlement(
                settlement=settlement, user=request.user, note=request.POST.get("note", "")
            )
        elif action == "return":
            actions.return_settlement(
                settlement=settlement, user=request.user, note=request.POST.get("note", "")
            )
        else:
            actions.prepare_settlement(region_code=settlement.region_id, month=settlement.month)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("reports:settlement", pk=pk)


@login_required
def line_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    line = get_object_or_404(
        SettlementLine.objects.restrict(request.user, "view").select_related("settlement"), pk=pk
    )
    if request.method != "POST":
        return redirect("reports:settlement", pk=line.settlement_id)
    try:
        if action == "query" and user_may(request.user, "query", line):
            actions.query_line(line=line, user=request.user, question=request.POST.get("text", ""))
        elif action == "answer" and user_may(request.user, "answer", line):
            actions.answer_query(line=line, user=request.user, answer=request.POST.get("text", ""))
        else:
            raise PermissionDenied
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("reports:settlement", pk=line.settlement_id)


@login_required
def settlement_xlsx(request: HttpRequest, pk: int) -> HttpResponseBase:
    settlement = get_object_or_404(Settlement.objects.restrict(request.user, "export"), pk=pk)
    log_export(
        user=request.user,
        model=SettlementLine,
        count=settlement.lines.count(),
        fields=["client_name"],
        purpose="settlement",
        filters={"settlement": pk},
        request=request,
    )
    header = [
        _("Kind"),
        _("Region code"),
        _("Client"),
        _("Amount (yuan)"),
        _("Evidence items"),
        _("Evidence"),
        _("Query"),
        _("Answer"),
    ]
    summary = [
        [_("Month"), f"{settlement.month:%Y-%m}"],
        [_("Status"), settlement.get_status_display()],
        [_("Person-months"), settlement.person_months],
        [_("Rate (yuan)"), float(settlement.rate)],
        [_("Basic service subsidy"), float(settlement.basic_amount)],
        [_("First installations"), settlement.installation_count],
        [_("First-installation costs"), float(settlement.installation_amount)],
        [_("Client-paid charges (not subsidised)"), float(settlement.client_paid_amount)],
        [_("Enrolled but no service delivered"), settlement.eligible_without_service],
    ]
    return xlsx_response(
        filename=f"settlement-{settlement.month:%Y-%m}.xlsx",
        sheets=[
            (pgettext("totals", "Summary"), [_("Item"), _("Value")], summary),
            (_("Lines"), header, iter_settlement_lines(settlement)),
        ],
    )


def _progress_context(request: HttpRequest) -> dict:
    require_role(request, *READERS)
    try:
        month = _month_param(request)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    code = _region(request)
    towns = progress_by_town(region_code=code, month=month)
    figures = compute_compliance(region_code=code, month=month)
    year_rows = annual_summary(region_code=code, year=month.year, until=month)
    return {
        "month": month,
        "region_code": code,
        "towns": towns,
        "figures": figures,
        "year_rows": year_rows,
        "chart": json.dumps(
            {
                "towns": [t["name"] for t in towns],
                "served": [t["served"] for t in towns],
                "installations": [t["installations"] for t in towns],
                "months": [r["month"] for r in year_rows],
                "monthly_served": [r["served"] for r in year_rows],
            },
            ensure_ascii=False,
        ),
        "generated_at": timezone.localtime(),
    }


def _month_param(request: HttpRequest) -> date:
    text = request.GET.get("month", "") or _default_month()
    return parse_month(text)


@login_required
def progress(request: HttpRequest) -> HttpResponseBase:
    try:
        context = _progress_context(request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("reports:index")
    fmt = request.GET.get("format")
    month = context["month"]
    if fmt == "xlsx":
        towns = context["towns"]
        return xlsx_response(
            filename=f"progress-{month:%Y-%m}.xlsx",
            sheets=[
                (
                    _("Progress by town"),
                    [
                        _("Town/street"),
                        _("Enrolled"),
                        _("Served"),
                        _("First installations"),
                        _("Self-paid clients"),
                    ],
                    (
                        [t["name"], t["enrolled"], t["served"], t["installations"], t["self_paid"]]
                        for t in towns
                    ),
                ),
                (
                    _("Compliance"),
                    [
                        _("Figure"),
                        _("Achieved"),
                        pgettext("clients due in a compliance figure", "Due"),
                        _("Ratio"),
                        _("Target"),
                    ],
                    (
                        [str(f.label), f.numerator, f.denominator, f.ratio, f.target]
                        for f in context["figures"]
                    ),
                ),
                (
                    _("Year to date"),
                    [_("Month"), _("Enrolled"), _("Served"), _("First installations")],
                    (
                        [r["month"], r["enrolled"], r["served"], r["installations"]]
                        for r in context["year_rows"]
                    ),
                ),
            ],
        )
    if fmt == "pdf":
        return pdf_response(
            filename=f"progress-{month:%Y-%m}.pdf", template="reports/progress_pdf.html", context=context
        )
    return render(request, "reports/progress.html", context)


def _dashboard_region(request: HttpRequest) -> str:
    """The region asked for, else the widest region the user holds a reader role in."""
    code = request.GET.get("region", "")
    if not code:
        held = sorted(
            (region for role, region in request.user.role_regions() if role in READERS),  # type: ignore[union-attr]
            key=lambda c: (len(prefix_of(c)), c),
        )
        code = held[0] if held else DISTRICT_CODE
    if not user_may_in_region(request.user, "view", Settlement, code):
        raise PermissionDenied
    return code


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Live counts, the year's trend, towns and a map of clients per village (cached 60 s)."""
    from django.conf import settings

    require_role(request, *READERS)
    code = _dashboard_region(request)
    figures = dashboard_figures(region_code=code)
    chart = {
        "months": [row["month"] for row in figures["trend"]],
        "served": [row["served"] for row in figures["trend"]],
        "enrolled": [row["enrolled"] for row in figures["trend"]],
        "installations": [row["installations"] for row in figures["trend"]],
    }
    return render(
        request,
        "reports/dashboard.html",
        {
            "figures": figures,
            "region_code": code,
            "chart": chart,
            "points": figures["points"],
            "tile_url": getattr(settings, "PINGANTONG_MAP_TILE_URL", "") or "",
        },
    )
