"""The field worker's installation flow on the phone (D3, D4): list and start, then one page with
the steps (check-in, home test, bind, live activation, SIM real name, photos, teaching and
confirmation). Every step posts to the same page and goes through one action."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pingantong.clients.models import Client
from pingantong.core.access import user_may
from pingantong.core.audit import log_read
from pingantong.core.views import require_object_access

from .. import actions
from ..actions.installation import checkin_radius_m
from ..choices import TEACHING_CHECKLIST, InstallationStatus, StockState
from ..forms import BindForm, CheckInForm, CompleteForm, HomeTestForm, PhotoForm
from ..models import Charge, DeviceTypeProfile, Installation, InstallationItem, StockItem

ERRORS = (actions.InstallationError, actions.StockError)


@login_required
def install_list(request: HttpRequest) -> HttpResponse:
    """Open installations in my regions, and a search to start one for a client."""
    open_ = (
        Installation.objects.restrict(request.user, "view")
        .filter(status=InstallationStatus.OPEN)
        .select_related("client", "installer")[:50]
    )
    query = request.GET.get("q", "").strip()
    clients = []
    if query:
        clients = list(
            Client.objects.restrict(request.user, "view")
            .filter(Q(name__icontains=query) | Q(phone__endswith=query))
            .order_by("name")[:20]
        )
    return render(request, "inventory/install_list.html", {"open": open_, "clients": clients, "q": query})


@login_required
@require_POST
def install_start(request: HttpRequest, client_pk: int) -> HttpResponse:
    client = get_object_or_404(Client.objects.restrict(request.user, "view"), pk=client_pk)
    probe = Installation(client=client, region_id=client.region_id)
    if not user_may(request.user, "add", probe):
        raise PermissionDenied
    installation = actions.start_installation(client=client, installer=request.user)
    return redirect("inventory:install-page", pk=installation.pk)


def _bindable_items(request: HttpRequest, installation: Installation):
    return (
        StockItem.objects.restrict(request.user, "change")
        .filter(
            Q(state=StockState.IN_STOCK) | Q(state=StockState.ASSIGNED, client=installation.client),
        )
        .exclude(installations__installation=installation)
        .select_related("device_model__device_type")
        .order_by("device_model__device_type_id", "serial")
    )


def _handle(request: HttpRequest, installation: Installation) -> None:
    step = request.POST.get("step", "")
    if step == "checkin":
        form = CheckInForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            actions.check_in_installation(
                installation=installation,
                latitude=d["latitude"],
                longitude=d["longitude"],
                accuracy_m=d["accuracy"],
                reason=d["reason"],
            )
    elif step == "home_test":
        test = HomeTestForm(request.POST)
        if not test.is_valid():
            raise actions.InstallationError(test.errors.as_text())
        actions.record_home_test(installation=installation, **test.cleaned_data)
    elif step == "bind":
        bind = BindForm(request.POST, items=_bindable_items(request, installation))
        if not bind.is_valid():
            raise actions.InstallationError(_("Choose a device that is in stock in your region."))
        line = actions.bind_installation_device(
            installation=installation, item=bind.cleaned_data["item"], by=request.user
        )
        charge = line.item.charges.filter(voided_at__isnull=True).first()
        if charge is not None:
            messages.info(request, charge.explanation)
    elif step == "sim":
        line = get_object_or_404(installation.items.select_related("item"), pk=request.POST.get("line"))
        actions.confirm_sim_real_name(item=line.item, by=request.user)
    elif step == "photo":
        photo = PhotoForm(request.POST, request.FILES)
        if not photo.is_valid():
            raise actions.InstallationError(_("Attach a photo."))
        actions.add_installation_photo(installation=installation, image=photo.cleaned_data["photo"])
    elif step == "complete":
        done = CompleteForm(request.POST)
        if not done.is_valid():
            raise actions.InstallationError(done.errors.as_text())
        d = done.cleaned_data
        actions.complete_installation(
            installation=installation,
            taught=d["taught"],
            confirmed_by=d["confirmed_by"],
            confirmed_name=d["confirmed_name"],
            notes=d["notes"],
            by=request.user,
        )
        messages.success(request, _("Installation completed."))
    elif step == "cancel":
        actions.cancel_installation(
            installation=installation, reason=request.POST.get("reason", ""), by=request.user
        )
        messages.info(request, _("Installation cancelled; its devices are back in stock."))
    else:
        raise actions.InstallationError(_("Unknown step."))


@login_required
def install_page(request: HttpRequest, pk: int) -> HttpResponse:
    installation = get_object_or_404(
        Installation.objects.restrict(request.user, "view").select_related("client", "installer"), pk=pk
    )
    if request.method == "POST":
        require_object_access(request, "change", installation)
        try:
            _handle(request, installation)
        except ERRORS as exc:
            messages.error(request, str(exc))
        return redirect("inventory:install-page", pk=installation.pk)
    client = installation.client
    log_read(
        user=request.user,
        obj=client,
        fields=["address", "location", "phone"],
        purpose="installation",
        request=request,
    )
    lines = list(installation.items.select_related("item__device_model__device_type", "item__device"))
    charges = {
        c.item_id: c
        for c in Charge.objects.filter(item__in=[ln.item_id for ln in lines], voided_at__isnull=True)
    }
    for line in lines:
        line.charge = charges.get(line.item_id)  # type: ignore[attr-defined]
    profiles = {
        p.device_type_id: p
        for p in DeviceTypeProfile.objects.filter(
            device_type_id__in=installation.recommended_types
        ).select_related("device_type")
    }
    recommended = [
        (profiles[c], installation.recommendation_reasons.get(c, ""))
        for c in installation.recommended_types
        if c in profiles
    ]
    context = {
        "installation": installation,
        "client": client,
        "lines": lines,
        "recommended": recommended,
        "checkin_form": CheckInForm(),
        "home_form": HomeTestForm(),
        "bind_form": BindForm(items=_bindable_items(request, installation)),
        "photo_form": PhotoForm(),
        "complete_form": CompleteForm(initial={"taught": installation.taught}),
        "missing": actions.missing_for_completion(installation) if installation.status == "open" else [],
        "checklist": TEACHING_CHECKLIST,
        "radius_m": checkin_radius_m(),
        "can_change": user_may(request.user, "change", installation),
    }
    return render(request, "inventory/install_page.html", context)


@login_required
def activation_status(request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
    """The live activation check, polled by htmx every 2 s until the first message arrives."""
    line = get_object_or_404(
        InstallationItem.objects.restrict(request.user, "view").select_related("item__device"),
        pk=line_pk,
        installation_id=pk,
    )
    actions.check_activation(line=line)
    return render(request, "inventory/_activation.html", {"line": line})
