"""Support and referrals (S16–S21): the information directory for agents answering questions,
active intervention warnings, open referrals and coming activities."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from pingantong.accounts.choices import ALL_ROLES
from pingantong.core.views import require_role

from ..choices import DirectoryCategory, ReferralStatus
from ..models import Activity, DirectoryEntry, PartnerOrganisation, Referral
from ..selectors.worklist import active_flags


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
