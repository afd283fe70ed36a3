"""Support and referrals (S16–S21): the information directory for agents answering questions,
active intervention warnings, open referrals and coming activities."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from pingantong.accounts.choices import ALL_ROLES
from pingantong.clients.models import Client
from pingantong.core.access import user_may
from pingantong.core.views import require_object_access, require_role

from .. import actions
from ..choices import DirectoryCategory, ReferralStatus
from ..forms import CounsellingForm, ReferralForm
from ..models import Activity, CounsellingSession, DirectoryEntry, PartnerOrganisation, Referral
from ..selectors.worklist import active_flags
from .tasks import _error_text


@login_required
def support_page(request: HttpRequest) -> HttpResponse:
    require_role(request, *ALL_ROLES)
    user = request.user
    q = (request.GET.get("q") or "").strip()
    category = request.GET.get("category") or ""
    directory = DirectoryEntry.objects.restrict(user, "view").select_related("region")
    if q:
        directory = directory.filter(
            Q(title__icontains=q) | Q(summary__icontains=q) | Q(address__icontains=q)
        )
    if category:
        directory = directory.filter(category=category)
    context = {
        "q": q,
        "category": category,
        "categories": DirectoryCategory.choices,
        "directory": directory[:100],
        "flags": active_flags(user),
        "referrals": Referral.objects.restrict(user, "view")
        .filter(status__in=(ReferralStatus.OPEN, ReferralStatus.ACCEPTED))
        .select_related("client", "partner")[:100],
        "activities": Activity.objects.restrict(user, "view")
        .filter(starts_at__gte=timezone.now())
        .annotate(signed=Count("signups"))
        .order_by("starts_at")[:50],
        "partners": PartnerOrganisation.objects.restrict(user, "view").filter(active=True)[:100],
    }
    return render(request, "care/support.html", context)


@login_required
def client_support(request: HttpRequest, client_id: int) -> HttpResponse:
    """Record a counselling session (S16, with the S17 intervention flag) or a referral (S20, S21) for
    one client; shows the client's sessions and referrals."""
    client = get_object_or_404(Client.objects.restrict(request.user, "view"), pk=client_id)
    partners = PartnerOrganisation.objects.restrict(request.user, "view").filter(active=True)
    counselling_form, referral_form = CounsellingForm(), ReferralForm(partners=partners)
    if request.method == "POST":
        if not user_may(request.user, "add", CounsellingSession(region_id=client.region_id)):
            raise PermissionDenied
        try:
            if request.POST.get("form") == "activity":
                activity = get_object_or_404(
                    Activity.objects.restrict(request.user, "view"), pk=request.POST.get("activity") or 0
                )
                actions.sign_up_for_activity(activity=activity, client=client, by=request.user)
            elif request.POST.get("form") == "counselling":
                counselling_form = CounsellingForm(request.POST)
                if not counselling_form.is_valid():
                    raise ValidationError(counselling_form.errors.get_json_data())
                actions.record_counselling_session(
                    client=client, by=request.user, **counselling_form.cleaned_data
                )
            else:
                referral_form = ReferralForm(request.POST, partners=partners)
                if not referral_form.is_valid():
                    raise ValidationError(referral_form.errors.get_json_data())
                actions.refer_client(client=client, by=request.user, **referral_form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, _("Saved."))
            return redirect("care:client-support", client_id=client.pk)
    return render(
        request,
        "care/client_support.html",
        {
            "client": client,
            "counselling_form": counselling_form,
            "referral_form": referral_form,
            "sessions": CounsellingSession.objects.restrict(request.user, "view").filter(client=client)[:20],
            "referrals": Referral.objects.restrict(request.user, "view")
            .filter(client=client)
            .select_related("partner")[:20],
        },
    )


@login_required
def activity_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One activity (S18): who signed up, and ticking who attended."""
    activity = get_object_or_404(Activity.objects.restrict(request.user, "view"), pk=pk)
    # An activity may gather clients of neighbouring towns too: each user sees (and ticks) only the
    # sign-ups of the clients their role and region allow.
    signups = (
        activity.signups.restrict(request.user, "view").select_related("client").order_by("signed_up_at")
    )
    if request.method == "POST":
        require_object_access(request, "change", activity)
        attended = {int(v) for v in request.POST.getlist("attended") if v.isdigit()}
        for signup in signups:
            actions.record_attendance(signup=signup, attended=signup.pk in attended)
        messages.success(request, _("Saved."))
        return redirect("care:activity", pk=activity.pk)
    return render(request, "care/activity.html", {"activity": activity, "signups": signups})
