"""The P1 chain on screen: village files, township decides, district records; the notice inbox."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pingantong.accounts.choices import Role
from pingantong.accounts.models import User
from pingantong.core.access import user_may
from pingantong.core.views import RestrictedDetailView, RestrictedListView
from pingantong.regions.models import Region, RegionLevel, prefix_of

from .. import actions
from ..choices import ApplicationStatus
from ..forms import ApplicationForm, DecisionForm
from ..models import Application, Notice
from .common import apply_errors


class ApplicationListView(RestrictedListView):
    model = Application
    template_name = "clients/application_list.html"
    paginate_by = 50

    def get_queryset(self):
        qs = super().get_queryset().select_related("client", "client__region", "filed_by")
        status = self.request.GET.get("status")
        if status in ApplicationStatus.values:
            qs = qs.filter(status=status)
        return qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            statuses=ApplicationStatus.choices,
            can_file=self.request.user.has_role(Role.VILLAGE),
            notices=notices_for(self.request.user)[:20],
        )
        return context


def notices_for(user):
    """Open notices addressed to a role the user holds, for a region under one of theirs."""
    if user.is_superuser:
        return Notice.objects.filter(done=False)
    q = Q()
    for role, code in user.role_regions():
        q |= Q(role=role, region_code__startswith=prefix_of(code))
    return Notice.objects.restrict(user, "view").filter(q, done=False) if q else Notice.objects.none()


class ApplicationDetailView(RestrictedDetailView):
    model = Application
    template_name = "clients/application_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("client", "client__region", "filed_by", "decided_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        app: Application = self.object
        user = self.request.user
        context.update(
            steps=app.steps.select_related("actor"),
            can_decide=app.status == ApplicationStatus.FILED and user_may(user, "decide", app),
            can_record=app.status == ApplicationStatus.APPROVED and user_may(user, "record", app),
            decision_form=DecisionForm(),
        )
        return context


@login_required
def application_new(request: HttpRequest) -> HttpResponse:
    """A village/community user files an application (the ID number is checked as it is typed)."""
    user = request.user
    if not isinstance(user, User) or not user.has_role(Role.VILLAGE):
        raise PermissionDenied
    prefixes = [prefix_of(code) for role, code in user.role_regions() if role == Role.VILLAGE]
    q = Q()
    for prefix in prefixes:
        q |= Q(code__startswith=prefix)
    regions = Region.objects.filter(q, level=RegionLevel.VILLAGE) if prefixes else Region.objects.none()
    if request.user.is_superuser:
        regions = Region.objects.filter(level=RegionLevel.VILLAGE, code__startswith="350404")
    form = ApplicationForm(request.POST or None, regions=regions, validate_url=reverse("clients:validate-id"))
    if request.method == "POST" and form.is_valid():
        try:
            application = actions.file_application(
                by=request.user,
                id_number=form.cleaned_data["id_number"],
                statement=form.cleaned_data.get("statement", ""),
                requested_scheme=form.cleaned_data["requested_scheme"],
                **form.action_values(),
            )
            messages.success(request, _("Application filed; the township has been notified."))
            return redirect("clients:application-detail", pk=application.pk)
        except ValidationError as exc:
            apply_errors(form, exc)
    return render(request, "clients/application_form.html", {"form": form})


def _application(request: HttpRequest, pk: int) -> Application:
    return Application.objects.restrict(request.user, "view").select_related("client").get(pk=pk)


@login_required
@require_POST
def application_decide(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        application = _application(request, pk)
    except Application.DoesNotExist:
        raise PermissionDenied from None
    form = DecisionForm(request.POST)
    form.is_valid()
    note = form.cleaned_data.get("note", "")
    try:
        if request.POST.get("decision") == "approve":
            actions.approve_application(application=application, by=request.user, note=note)
            messages.success(request, _("Approved: the client is enrolled."))
        elif request.POST.get("decision") == "return":
            actions.return_application(application=application, by=request.user, reason=note)
            messages.success(request, _("Returned to the village."))
        elif request.POST.get("decision") == "record":
            actions.record_application(application=application, by=request.user, note=note)
            messages.success(request, _("Recorded."))
        else:
            messages.error(request, _("Choose a decision."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("clients:application-detail", pk=pk)


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    return render(request, "clients/inbox.html", {"notices": notices_for(request.user)[:100]})
