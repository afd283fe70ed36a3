"""Supervision and the device page: each device's health on one screen, one device's health with
remote configuration through the downlink queue (delivery status polled), and per client which
device types the agency offers and which the client has (D2)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pingantong.clients.models import Client
from pingantong.core.access import user_may
from pingantong.core.audit import log_read
from pingantong.core.views import require_object_access
from pingantong.devices.models import CommandStatus, Device, DownlinkCommand

from .. import actions
from ..forms import ConfigForm
from ..selectors import device_choices_for_client, health_of, health_of_device, supervised_devices


@login_required
def health_screen(request: HttpRequest) -> HttpResponse:
    """Every supervised device in my regions: problems first."""
    devices = supervised_devices().restrict(request.user, "view")[:500]
    rows = health_of(devices, timezone.now())
    rows.sort(key=lambda h: (h.ok, -len(h.problems), h.device.pk))
    problem = request.GET.get("problem")
    if problem:
        rows = [h for h in rows if problem in h.problems]
    return render(request, "inventory/health.html", {"rows": rows, "problem": problem or ""})


def _device(request: HttpRequest, pk: int) -> Device:
    qs = Device.objects.restrict(request.user, "view").select_related("device_type", "client", "state")
    return get_object_or_404(qs, pk=pk)


@login_required
def device_page(request: HttpRequest, pk: int) -> HttpResponse:
    device = _device(request, pk)
    health = health_of_device(device, timezone.now())
    numbers = actions.sos_numbers_from_contacts(device.client) if device.client is not None else []
    if numbers and device.client is not None:  # contacts' phone numbers shown unmasked: record why (X2)
        log_read(
            user=request.user,
            obj=device.client,
            fields=["contacts.phone"],
            purpose="device configuration",
            request=request,
        )
    state = getattr(device, "state", None)
    position = None
    if state is not None and state.latitude is not None and state.longitude is not None:
        position = {
            "lat": state.latitude,
            "lon": state.longitude,
            "at": state.position_at,
            "valid": state.position_valid,
        }
        log_read(user=request.user, obj=device, fields=["location"], purpose="device status", request=request)
    return render(
        request,
        "inventory/device.html",
        {
            "device": device,
            "health": health,
            "position": position,
            "form": ConfigForm(),
            "sos_numbers": numbers,
            **_commands_context(device),
            "can_configure": user_may(request.user, "add", DownlinkCommand(device=device)),
            "item": getattr(device, "stock_item", None),
        },
    )


@login_required
@require_POST
def device_configure(request: HttpRequest, pk: int) -> HttpResponse:
    device = _device(request, pk)
    require_object_access(request, "add", DownlinkCommand(device=device))
    form = ConfigForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors.as_text())
        return redirect("inventory:device", pk=pk)
    kind = form.cleaned_data["kind"]
    value = {"report_interval": form.cleaned_data["seconds"], "clock_zone": form.cleaned_data["tz"]}.get(kind)
    try:
        actions.configure_device(device=device, kind=kind, value=value, by=request.user)
        messages.success(request, _("Queued: the device will confirm when it receives it."))
    except actions.RemoteConfigError as exc:
        messages.error(request, str(exc))
    return redirect("inventory:device", pk=pk)


@login_required
def device_commands(request: HttpRequest, pk: int) -> HttpResponse:
    """The command list with delivery status, polled by htmx while something is pending."""
    device = _device(request, pk)
    return render(request, "inventory/_commands.html", {"device": device, **_commands_context(device)})


def _commands_context(device: Device) -> dict:
    commands = list(DownlinkCommand.objects.filter(device=device)[:10])
    pending = any(c.status in (CommandStatus.QUEUED, CommandStatus.SENT) for c in commands)
    return {"commands": commands, "pending": pending}


@login_required
@require_POST
def device_test_call(request: HttpRequest, pk: int) -> HttpResponse:
    device = _device(request, pk)
    require_object_access(request, "change", device)
    try:
        actions.record_test_call(device=device, by=request.user, note=request.POST.get("note", ""))
        messages.success(request, _("Test call recorded."))
    except ValueError as exc:
        messages.error(request, str(exc))
    return redirect("inventory:device", pk=pk)


@login_required
def client_devices(request: HttpRequest, pk: int) -> HttpResponse:
    """The device types offered (D2), which the client has and which the home test recommended."""
    client = get_object_or_404(Client.objects.restrict(request.user, "view"), pk=pk)
    from ..models import Charge, Installation, StockItem

    return render(
        request,
        "inventory/client_devices.html",
        {
            "client": client,
            "choices": device_choices_for_client(client),
            "items": StockItem.objects.restrict(request.user, "view")
            .filter(client=client)
            .select_related("device_model__device_type", "device"),
            "charges": Charge.objects.restrict(request.user, "view").filter(client=client),
            "installations": Installation.objects.restrict(request.user, "view").filter(client=client),
        },
    )
