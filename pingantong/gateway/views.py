"""The gateway page for operators and installers: sessions, message rate and malformed frames per
protocol and listener, the unknown-device inbox (with binding), recent downlinks and their
confirmations. Region-scoped through pingantong.core.access (see selectors.py); the panel
refreshes itself with htmx."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pingantong.accounts.choices import Role
from pingantong.clients.models import Client
from pingantong.core.access import user_may, user_may_in_region
from pingantong.core.views import require_role
from pingantong.devices import actions
from pingantong.devices.models import Device, UnknownDeviceInbox
from pingantong.gateway import selectors
from pingantong.gateway.forms import BindUnknownDeviceForm
from pingantong.gateway.listeners.metrics import snapshot

PAGE_ROLES = (Role.FIELD_WORKER, Role.AGENCY_ADMIN, Role.SYSADMIN)
"""Installers (field workers), agency administrators and system administrators."""


def _require_page(request: HttpRequest) -> None:
    if request.user.is_authenticated and request.user.is_superuser and request.user.is_active:
        return
    require_role(request, *PAGE_ROLES)


def _panel_context(request: HttpRequest) -> dict:
    user = request.user
    return {
        "overview": selectors.gateway_overview(user),
        "downlinks": selectors.recent_downlinks(user),
        "this_process": sorted(snapshot().items()),
        "rate_window_s": int(selectors.RATE_WINDOW.total_seconds()),
    }


@login_required
def gateway_page(request: HttpRequest) -> HttpResponse:
    _require_page(request)
    user = request.user
    inbox = [(row, user_may(user, "change", row)) for row in selectors.unbound_inbox(user)]
    context = {**_panel_context(request), "inbox": inbox, "bind_form": BindUnknownDeviceForm()}
    return render(request, "gateway/status.html", context)


@login_required
def gateway_panel(request: HttpRequest) -> HttpResponse:
    """The self-refreshing part of the page (htmx, every 10 s); the inbox's forms are not in it."""
    _require_page(request)
    return render(request, "gateway/_panel.html", _panel_context(request))


@login_required
@require_POST
def bind_unknown_device(request: HttpRequest, pk: int) -> HttpResponse:
    """Register an inbox terminal (type, model) and, if a client number is given, bind it."""
    _require_page(request)
    user = request.user
    row = get_object_or_404(
        UnknownDeviceInbox.objects.restrict(user, "change").filter(bound_device__isnull=True), pk=pk
    )
    form = BindUnknownDeviceForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(
            f"{form.fields[f].label}: {' '.join(str(m) for m in e)}" for f, e in form.errors.items()
        )
        messages.error(request, _("Not registered: %(errors)s") % {"errors": errors})
        return redirect("gateway:status")
    if not user_may_in_region(user, "add", Device, row.region_id):
        raise PermissionDenied
    client = None
    if form.cleaned_data["client"]:
        client = Client.objects.restrict(user, "view").filter(pk=form.cleaned_data["client"]).first()
        if client is None or not user_may_in_region(user, "change", Device, client.region_id):
            messages.error(request, _("No client with that number in your regions."))
            return redirect("gateway:status")
    try:
        with transaction.atomic():
            device = actions.register_device(
                protocol=row.protocol,
                identity=row.identity,
                device_type=form.cleaned_data["device_type"].pk,
                model_name=form.cleaned_data["model_name"],
            )
            if client is not None:
                actions.bind_device(device=device, client=client)
    except IntegrityError:
        messages.error(request, _("This terminal is already in the registry."))
        return redirect("gateway:status")
    if client is not None:
        messages.success(
            request,
            _("%(device)s registered and bound to %(client)s.") % {"device": device, "client": client.name},
        )
    else:
        messages.success(
            request, _("%(device)s registered; bind it to a client when installing.") % {"device": device}
        )
    return redirect("gateway:status")
