"""Drafting, signing and printing service agreements (P2)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from pingantong.core.audit import log_read, purpose_of
from pingantong.core.views import require_object_access

from .. import actions
from ..choices import ItemKind
from ..forms import AgreementForm, SignForm
from ..idnumber import today_local
from ..models import Agreement, Client, ServiceItem
from ..pdf import agreement_pdf
from .common import apply_errors


@login_required
def agreement_new(request: HttpRequest, pk: int) -> HttpResponse:
    client = get_object_or_404(Client.objects.restrict(request.user, "view"), pk=pk)
    require_object_access(request, "add", Agreement(client=client))
    extended = ServiceItem.objects.filter(kind=ItemKind.EXTENDED, active=True)
    form = AgreementForm(request.POST or None, extended_items=extended, initial={"starts_on": today_local()})
    if request.method == "POST" and form.is_valid():
        try:
            agreement = actions.draft_agreement(
                client=client,
                by=request.user,
                extended_codes=form.cleaned_data["extended"],
                starts_on=form.cleaned_data["starts_on"],
            )
            return redirect("clients:agreement", pk=agreement.pk)
        except ValidationError as exc:
            apply_errors(form, exc)
    basic = ServiceItem.objects.filter(kind=ItemKind.BASIC, active=True)
    return render(request, "clients/agreement_form.html", {"form": form, "client": client, "basic": basic})


@login_required
def agreement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = get_object_or_404(
        Agreement.objects.restrict(request.user, "view").select_related("client"), pk=pk
    )
    form = SignForm(
        request.POST or None, initial={"signed_on": today_local(), "signed_by": agreement.client.name}
    )
    if request.method == "POST":
        require_object_access(request, "change", agreement)
        if form.is_valid():
            try:
                actions.sign_agreement(agreement=agreement, by=request.user, **form.cleaned_data)
                messages.success(request, _("Agreement signed."))
                return redirect("clients:agreement", pk=agreement.pk)
            except ValidationError as exc:
                apply_errors(form, exc)
    return render(
        request,
        "clients/agreement_detail.html",
        {"agreement": agreement, "items": agreement.items.order_by("code"), "form": form},
    )


@login_required
def agreement_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable agreement; it carries the full ID number, so the read is logged."""
    agreement = get_object_or_404(
        Agreement.objects.restrict(request.user, "view").select_related("client"), pk=pk
    )
    require_object_access(request, "reveal_id", agreement.client)
    log_read(
        user=request.user,
        obj=agreement.client,
        fields=["id_number", "address", "phone"],
        purpose=purpose_of(request, "agreement"),
        request=request,
    )
    response = HttpResponse(agreement_pdf(agreement), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="agreement-{agreement.pk}.pdf"'
    return response
