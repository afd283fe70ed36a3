"""Pages of the provincial sync: outbox status, dead letters, reconciliation, and the X4 handover."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from pingantong.core.access import user_may, user_may_in_region
from pingantong.core.audit import log_export
from pingantong.core.views import require_role

from .delivery import requeue
from .handover import build_handover
from .models import SYNC_ADMIN, SYNC_VIEW, OutboxEvent, OutboxStatus, ReconciliationReport

DISTRICT = "350404000000"


@login_required
def index(request: HttpRequest) -> HttpResponse:
    require_role(request, *SYNC_VIEW)
    events = OutboxEvent.objects.restrict(request.user, "view")
    counts = dict(events.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    return render(
        request,
        "sync/index.html",
        {
            "counts": {status.label: counts.get(status.value, 0) for status in OutboxStatus},
            "dead": events.filter(status=OutboxStatus.DEAD).order_by("-created_at")[:100],
            "pending": events.filter(status=OutboxStatus.PENDING).order_by("created_at")[:20],
            "reports": ReconciliationReport.objects.restrict(request.user, "view")[:30],
            "may_requeue": request.user.has_role(*SYNC_ADMIN),  # type: ignore[union-attr]
        },
    )


@login_required
def requeue_event(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(OutboxEvent.objects.restrict(request.user, "view"), pk=pk)
    if request.method != "POST" or not user_may(request.user, "change", event):
        raise PermissionDenied
    requeue(event)
    messages.success(request, _("The event will be sent again with the same idempotency key."))
    return redirect("sync:index")


@login_required
def handover(request: HttpRequest) -> FileResponse:
    """X4: the full project data of a region (district bureau, auditors, administrators)."""
    code = request.GET.get("region") or DISTRICT
    if not request.user.has_role("district", "auditor", "sysadmin"):  # type: ignore[union-attr]
        raise PermissionDenied
    if not user_may_in_region(request.user, "view", OutboxEvent, code):
        raise PermissionDenied
    spool, manifest = build_handover(region_code=code)
    from pingantong.clients.models import Client

    log_export(
        user=request.user,
        model=Client,
        count=manifest["counts"].get("clients", 0),
        fields=["name", "address"],
        purpose="data handover (X4)",
        filters={"region": code},
        request=request,
    )
    return FileResponse(
        spool, as_attachment=True, filename=f"pingantong-handover-{code}.zip", content_type="application/zip"
    )
