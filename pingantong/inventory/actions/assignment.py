"""Assigning a device to a client, with the subsidy rules (F2) applied and recorded, and replacing
a faulty device with a substitute (history kept on both)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from ..choices import StockAction, StockState
from ..models import Charge, DeviceModel, StockItem
from ..subsidy import ChargeDecision, decide_charge, household_key
from .stock import StockError, _locked, check_transition, record_transition


def standard_basic_price() -> Decimal:
    """The price the subsidy pays for a basic terminal: the cheapest available basic model that is
    not multi-function."""
    value = DeviceModel.objects.filter(active=True, basic_terminal=True, multi_function=False).aggregate(
        p=Min("price")
    )["p"]
    return Decimal(value if value is not None else 0)


def household_has_free_basic(key: str) -> bool:
    return Charge.objects.filter(household_key=key, uses_basic_subsidy=True, voided_at__isnull=True).exists()


def preview_charge(*, item: StockItem, client: Any, replacing: StockItem | None = None) -> ChargeDecision:
    """What assigning `item` to `client` would cost, before anything is written (shown on the page)."""
    model = item.device_model
    return decide_charge(
        price=model.price,
        basic_terminal=model.basic_terminal,
        multi_function=model.multi_function,
        household_has_free_basic=household_has_free_basic(household_key(client)),
        standard_basic_price=standard_basic_price(),
        replacement=replacing is not None,
        client_damaged=bool(replacing and replacing.client_damaged),
    )


def _check_client(client: Any) -> None:
    from pingantong.clients.choices import ClientStatus

    if client.status == ClientStatus.TERMINATED:
        raise StockError(
            _("%(name)s has left the service: no device can be assigned.") % {"name": client.name}
        )


@transaction.atomic
def assign_stock_item(
    *, item: StockItem, client: Any, by: Any = None, replacing: StockItem | None = None
) -> tuple[StockItem, Charge]:
    """Give a device from stock to a client: decide and record the charge (F2), bind the device to
    the client in the registry, and move it to `assigned`."""
    from pingantong.devices.actions import bind_device

    _check_client(client)
    item = _locked(item)
    check_transition(item, StockAction.ASSIGN)
    key = household_key(client)
    decision = preview_charge(item=item, client=client, replacing=replacing)
    charge = Charge.objects.create(
        client=client,
        region_id=client.region_id,
        household_key=key,
        item=item,
        device_model=item.device_model,
        kind=decision.kind,
        price=decision.price,
        subsidy_amount=decision.subsidy_amount,
        client_amount=decision.client_amount,
        uses_basic_subsidy=decision.uses_basic_subsidy,
        explanation=decision.explanation,
        created_at=timezone.now(),
        created_by=by if getattr(by, "is_authenticated", False) else None,
    )
    if item.device is not None:
        bind_device(device=item.device, client=client)
    record_transition(
        item=item,
        action=StockAction.ASSIGN,
        by=by,
        reason=decision.explanation,
        data={"charge_id": charge.pk, "client_amount": str(decision.client_amount), "kind": decision.kind},
        fields={"client": client, "region_id": client.region_id},
    )
    return item, charge


@transaction.atomic
def replace_stock_item(
    *, item: StockItem, substitute: StockItem, by: Any = None, reason: str = ""
) -> tuple[StockItem, Charge]:
    """Replace a faulty device with a substitute from stock for the same client (D4): the old one
    goes to `replaced` (and off the client), the substitute is assigned under the replacement rule
    (free unless the client damaged the old one)."""
    from pingantong.devices.actions import unbind_device

    item = _locked(item)
    check_transition(item, StockAction.REPLACE)
    if substitute.pk == item.pk:
        raise StockError(_("A device cannot replace itself."))
    client = item.client
    if client is None:
        client = _last_client(item)
    if client is None:
        raise StockError(_("Device %(serial)s has no client to replace it for.") % {"serial": item.serial})
    substitute_locked = _locked(substitute)
    if substitute_locked.state != StockState.IN_STOCK:
        check_transition(substitute_locked, StockAction.ASSIGN)  # raises with the reason
    if item.device is not None and item.device.client_id is not None:
        unbind_device(device=item.device)
    record_transition(
        item=item,
        action=StockAction.REPLACE,
        by=by,
        reason=reason or _("Replaced by %(serial)s") % {"serial": substitute.serial},
        data={"substitute_id": substitute.pk, "client_id": client.pk},
        fields={"client": None, "region_id": item.store_region_id, "replaced_by": substitute_locked},
    )
    return assign_stock_item(item=substitute_locked, client=client, by=by, replacing=item)


def _last_client(item: StockItem) -> Any:
    """The client a device served before it went to repair (kept on its history)."""
    event = item.events.filter(client__isnull=False).order_by("-at", "-id").select_related("client").first()
    return event.client if event is not None else None
