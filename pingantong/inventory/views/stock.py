"""Stock pages: the shelf and each item's history, with the transitions as buttons."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pingantong.core.access import user_may_in_region
from pingantong.core.views import RestrictedListView, require_object_access

from .. import actions
from ..choices import StockAction, StockState
from ..forms import ReceiveForm, StockActionForm
from ..models import StockItem


class StockListView(RestrictedListView):
    model = StockItem
    template_name = "inventory/stock_list.html"

    def get_queryset(self):
        qs = super().get_queryset().select_related("device_model__device_type", "client", "region")
        state = self.request.GET.get("state")
        if state in StockState.values:
            qs = qs.filter(state=state)
        return qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            states=StockState.choices,
            state=self.request.GET.get("state", ""),
            receive_form=ReceiveForm(user=self.request.user),
        )
        return context


@login_required
@require_POST
def stock_receive(request: HttpRequest) -> HttpResponse:
    """Receive a device into stock at a store the user may add to (its SIM with it)."""
    form = ReceiveForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, form.errors.as_text())
        return redirect("inventory:stock-list")
    d = form.cleaned_data
    if not user_may_in_region(request.user, "add", StockItem, d["store_region"]):
        raise PermissionDenied
    try:
        item = actions.receive_stock_item(by=request.user, **d)
    except actions.StockError as exc:
        messages.error(request, str(exc))
        return redirect("inventory:stock-list")
    messages.success(request, _("Received into stock."))
    return redirect("inventory:stock-detail", pk=item.pk)


@login_required
def stock_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(
        StockItem.objects.restrict(request.user, "view").select_related("device_model", "client", "device"),
        pk=pk,
    )
    allowed = [
        a
        for a, (froms, _t) in actions.TRANSITIONS.items()
        if item.state in froms and a not in ("assign", "install")
    ]
    substitutes = StockItem.objects.restrict(request.user, "change").filter(state=StockState.IN_STOCK)[:50]
    return render(
        request,
        "inventory/stock_detail.html",
        {
            "item": item,
            "events": item.events.select_related("by", "client"),
            "charges": item.charges.all(),
            "allowed": [(a, StockAction(a).label) for a in allowed],
            "substitutes": substitutes,
        },
    )


@login_required
@require_POST
def stock_transition(request: HttpRequest, pk: int) -> HttpResponse:
    """Run one stock action from the item page; illegal moves come back as a clear message."""
    item = get_object_or_404(StockItem.objects.restrict(request.user, "view"), pk=pk)
    require_object_access(request, "change", item)
    form = StockActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Invalid request."))
        return redirect("inventory:stock-detail", pk=pk)
    d = form.cleaned_data
    action, reason, by = d["action"], d["reason"] or "", request.user
    try:
        if action == StockAction.CANCEL_ASSIGNMENT:
            actions.cancel_assignment(item=item, reason=reason, by=by)
        elif action == StockAction.REPORT_FAULT:
            actions.report_fault(item=item, reason=reason, client_damaged=d["client_damaged"], by=by)
        elif action == StockAction.SEND_TO_REPAIR:
            actions.send_to_repair(item=item, reason=reason, by=by)
        elif action == StockAction.RETURN_FROM_REPAIR:
            actions.return_from_repair(item=item, reason=reason, by=by)
        elif action == StockAction.TAKE_BACK:
            actions.take_back(item=item, reason=reason or _("taken back"), by=by)
        elif action == StockAction.RETIRE:
            actions.retire_stock_item(item=item, reason=reason, by=by)
        elif action == StockAction.REPLACE:
            substitute = get_object_or_404(
                StockItem.objects.restrict(request.user, "change"), pk=d["substitute"]
            )
            _new, charge = actions.replace_stock_item(item=item, substitute=substitute, reason=reason, by=by)
            messages.info(request, charge.explanation)
        else:
            actions.check_transition(item, action)  # raises a clear error for anything else
            raise actions.StockError(_("This action is done in the installation flow."))
        messages.success(request, _("Done."))
    except actions.StockError as exc:
        messages.error(request, str(exc))
    return redirect("inventory:stock-detail", pk=pk)
