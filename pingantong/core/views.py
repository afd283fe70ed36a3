"""Pages of the platform shell, and the base classes every page over personal data inherits."""

from __future__ import annotations

import contextlib
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, cast

from auditlog.models import LogEntry
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.views.generic import CreateView, DeleteView, DetailView, ListView, UpdateView

from pingantong.regions.models import prefix_of

from .access import user_may
from .audit import log_read, purpose_of
from .drf import page_of
from .models import AUDIT_ROLES, AuditEntry

if TYPE_CHECKING:
    from pingantong.accounts.models import User


class RestrictedQuerysetMixin(LoginRequiredMixin):
    """Pages over a restricted model: the queryset is always `restrict(user, restrict_action)`."""

    restrict_action = "view"

    def get_queryset(self):
        qs = super().get_queryset()  # type: ignore[misc]
        return qs.restrict(self.request.user, self.restrict_action)  # type: ignore[attr-defined]


class RestrictedListView(RestrictedQuerysetMixin, ListView):
    paginate_by = 50


class RestrictedDetailView(RestrictedQuerysetMixin, DetailView):
    """Detail page of a restricted record. Set `audit_read_fields` to the sensitive fields the page
    shows unmasked; each view is then audit-logged with the purpose (`?purpose=` or X-Purpose)."""

    audit_read_fields: tuple[str, ...] = ()

    def get_object(self, queryset=None):
        obj = super().get_object(queryset)
        if self.audit_read_fields:
            log_read(
                user=self.request.user,
                obj=obj,
                fields=self.audit_read_fields,
                purpose=purpose_of(self.request),
                request=self.request,
            )
        return obj


class RestrictedFormMixin(RestrictedQuerysetMixin):
    """Create and edit pages: the record, as it would be saved, must lie in a region where the user
    may add (new record) or change (existing record); otherwise 403 and nothing is saved."""

    def form_valid(self, form):
        candidate = form.save(commit=False)
        action = "add" if candidate._state.adding else "change"
        if not user_may(self.request.user, action, candidate):  # type: ignore[attr-defined]
            raise PermissionDenied
        return super().form_valid(form)  # type: ignore[misc]


class RestrictedCreateView(RestrictedFormMixin, CreateView):
    restrict_action = "add"


class RestrictedUpdateView(RestrictedFormMixin, UpdateView):
    restrict_action = "change"


class RestrictedDeleteView(RestrictedQuerysetMixin, DeleteView):
    restrict_action = "delete"


def require_role(request: HttpRequest, *roles: str) -> None:
    if not request.user.is_authenticated or not request.user.has_role(*roles):
        raise PermissionDenied


def require_object_access(request: HttpRequest, action: str, obj) -> None:
    if not user_may(request.user, action, obj):
        raise PermissionDenied


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The landing page: what this user's roles and regions are, and their entry points."""
    from .home import collect_widgets

    user = cast("User", request.user)
    assignments = user.role_assignments.select_related("region", "region__parent").order_by("role")
    widgets = collect_widgets(request)
    return render(request, "core/home.html", {"assignments": assignments, "widgets": widgets})


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability for load balancers and monitoring."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        db_ok = True
    except Exception:
        db_ok = False
    return JsonResponse(
        {"status": "ok" if db_ok else "degraded", "database": db_ok}, status=200 if db_ok else 503
    )


class AuditLogView(RestrictedListView):
    """Search the audit log: who read or changed what, when, from where and why (X2, I1).

    Only the audit roles get in; each sees the entries of their region subtree (AuditEntry's
    access policy), system administrators also the system-wide ones."""

    model = AuditEntry
    template_name = "core/audit_log.html"
    # The log is the largest table: pages are fetched without COUNT(*) (one extra row says whether
    # another page follows), so a search costs the same at 300,000 entries as at 300.
    paginate_by = None  # type: ignore[assignment]
    page_size = 50

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            require_role(request, *AUDIT_ROLES)
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        entries = super().get_queryset().select_related("actor", "content_type").order_by("-timestamp")
        q = self.request.GET
        if q.get("actor"):
            entries = entries.filter(actor__username__icontains=q["actor"].strip())
        if q.get("action") not in (None, ""):
            with contextlib.suppress(ValueError):
                entries = entries.filter(action=int(q["action"]))
        if q.get("model"):
            entries = entries.filter(content_type__model__icontains=q["model"].strip())
        if q.get("object"):
            entries = entries.filter(object_repr__icontains=q["object"].strip())
        if q.get("purpose"):
            entries = entries.filter(additional_data__purpose__icontains=q["purpose"].strip())
        if q.get("region", "").strip().isdigit():
            entries = entries.filter(
                additional_data__region__startswith=prefix_of(q["region"].strip().ljust(12, "0"))
            )
        tz = timezone.get_current_timezone()
        if (start := parse_date(q.get("from", "") or "")) is not None:
            entries = entries.filter(timestamp__gte=datetime.combine(start, time.min, tzinfo=tz))
        if (end := parse_date(q.get("to", "") or "")) is not None:
            entries = entries.filter(
                timestamp__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
            )
        return entries

    def get_context_data(self, **kwargs):
        from pingantong.regions.models import Region

        context = super().get_context_data(**kwargs)
        try:
            number = max(1, int(self.request.GET.get("page", "1")))
        except ValueError:
            number = 1
        rows, has_next = page_of(self.object_list, number, self.page_size)
        codes = {(e.additional_data or {}).get("region") for e in rows} - {None}
        names = dict(Region.objects.filter(pk__in=codes).values_list("pk", "name")) if codes else {}
        for entry in rows:
            code = (entry.additional_data or {}).get("region")
            entry.region_name = names.get(code, code or "")
        others = self.request.GET.copy()
        others.pop("page", None)
        context.update(
            page=rows,
            page_number=number,
            has_next=has_next,
            other_params=others.urlencode(),
            actions=LogEntry.Action.choices,
            query=self.request.GET,
        )
        return context


audit_log = AuditLogView.as_view()
