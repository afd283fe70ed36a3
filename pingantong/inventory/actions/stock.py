"""Stock transitions: the only way a stock item changes state, each with its history row.

The table `TRANSITIONS` is the whole state machine; every action validates against it and refuses
an illegal move with a sentence saying what is allowed, changing nothing.

    receive            → in_stock
    assign             in_stock → assigned            (subsidy rules, a Charge)
    cancel_assignment  assigned → in_stock            (the charge is voided)
    install            assigned → installed           (through the installation visit)
    report_fault       in_stock | assigned | installed → faulty
    send_to_repair     faulty → in_repair
    return_from_repair in_repair → in_stock
    replace            faulty | in_repair → replaced  (a substitute goes to the client)
    take_back          installed → in_stock           (client leaves the service)
    retire             in_stock | faulty | in_repair | replaced → retired
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..choices import StockAction, StockState
from ..models import StockEvent, StockItem

S = StockState
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    StockAction.ASSIGN: (frozenset({S.IN_STOCK}), S.ASSIGNED),
    StockAction.CANCEL_ASSIGNMENT: (frozenset({S.ASSIGNED}), S.IN_STOCK),
    StockAction.INSTALL: (frozenset({S.ASSIGNED}), S.INSTALLED),
    StockAction.REPORT_FAULT: (frozenset({S.IN_STOCK, S.ASSIGNED, S.INSTALLED}), S.FAULTY),
    StockAction.SEND_TO_REPAIR: (frozenset({S.FAULTY}), S.IN_REPAIR),
    StockAction.RETURN_FROM_REPAIR: (frozenset({S.IN_REPAIR}), S.IN_STOCK),
    StockAction.REPLACE: (frozenset({S.FAULTY, S.IN_REPAIR}), S.REPLACED),
    StockAction.TAKE_BACK: (frozenset({S.INSTALLED}), S.IN_STOCK),
    StockAction.RETIRE: (frozenset({S.IN_STOCK, S.FAULTY, S.IN_REPAIR, S.REPLACED}), S.RETIRED),
}


class StockError(ValueError):
    """A stock action that is not allowed (illegal transition or bad input); nothing was changed."""


def check_transition(item: StockItem, action: str) -> str:
    """The state `action` leads to from the item's state, or StockError saying why not."""
    if action not in TRANSITIONS:
        raise StockError(_("Unknown stock action %(action)s.") % {"action": action})
    allowed, target = TRANSITIONS[action]
    if item.state not in allowed:
        raise StockError(
            _("Cannot %(action)s device %(serial)s: it is %(state)s; allowed only when %(allowed)s.")
            % {
                "action": StockAction(action).label.lower(),
                "serial": item.serial,
                "state": StockState(item.state).label.lower(),
                "allowed": " / ".join(str(StockState(s).label).lower() for s in sorted(allowed)),
            }
        )
    return target


def record_transition(
    *,
    item: StockItem,
    action: str,
    by: Any = None,
    reason: str = "",
    data: dict | None = None,
    now: dt.datetime | None = None,
    fields: dict[str, Any] | None = None,
) -> StockEvent:
    """Move the item (already locked by the caller's transaction) and append its history row."""
    target = check_transition(item, action)
    previous, previous_client = item.state, item.client_id
    item.state = target
    changed = ["state", "updated_at"]
    for name, value in (fields or {}).items():
        setattr(item, name, value)
        changed.append(name)
    item.save(update_fields=changed)
    return StockEvent.objects.create(
        item=item,
        action=action,
        from_state=previous,
        to_state=target,
        at=now or timezone.now(),
        by=by if getattr(by, "is_authenticated", False) else None,
        client_id=item.client_id or previous_client,
        region_id=str(item.region_id),
        reason=reason[:200],
        data=data or {},
    )


def _locked(item: StockItem) -> StockItem:
    fresh = StockItem.objects.select_for_update().get(pk=item.pk)
    return fresh


@transaction.atomic
def receive_stock_item(
    *,
    serial: str,
    device_model: Any,
    imei: str = "",
    identity: str = "",
    iccid: str = "",
    sim_number: str = "",
    store_region: Any = None,
    by: Any = None,
) -> StockItem:
    """Take a new device into stock and register it in the device registry (so the gateway knows
    it): `identity` is what the device sends (watch id, terminal number, zigbee id; default IMEI)."""
    from pingantong.devices.actions import CommandError, register_device
    from pingantong.devices.models import Device, default_unbound_region_code

    serial = serial.strip()
    if not serial:
        raise StockError(_("A serial number is required."))
    if StockItem.objects.filter(serial=serial).exists():
        raise StockError(_("Serial %(serial)s is already in stock.") % {"serial": serial})
    if iccid and not (iccid.isdigit() and 19 <= len(iccid) <= 20):
        raise StockError(_("An ICCID has 19 or 20 digits."))
    identity = (identity or imei or serial).strip()
    region_id = getattr(store_region, "pk", store_region) or default_unbound_region_code()
    device = Device.objects.filter(protocol=device_model.protocol, identity=identity).first()
    if device is not None and hasattr(device, "stock_item"):
        raise StockError(_("Device %(id)s is already in stock.") % {"id": identity})
    if device is None:
        try:
            device = register_device(
                protocol=device_model.protocol,
                identity=identity,
                device_type=device_model.device_type_id,
                model_name=str(device_model),
                iccid=iccid,
                sim_number=sim_number,
            )
        except CommandError as exc:
            raise StockError(str(exc)) from None
    item = StockItem.objects.create(
        serial=serial,
        imei=imei,
        device_model=device_model,
        device=device,
        iccid=iccid,
        sim_number=sim_number,
        store_region_id=region_id,
        region_id=region_id,
        state=StockState.IN_STOCK,
    )
    StockEvent.objects.create(
        item=item,
        action=StockAction.RECEIVE,
        from_state="",
        to_state=StockState.IN_STOCK,
        at=timezone.now(),
        by=by if getattr(by, "is_authenticated", False) else None,
        region_id=region_id,
    )
    return item


@transaction.atomic
def cancel_assignment(*, item: StockItem, by: Any = None, reason: str = "") -> StockItem:
    """Put an assigned device back on the shelf: unbind it and void its charge (the household's
    free basic terminal is released)."""
    from pingantong.devices.actions import unbind_device

    item = _locked(item)
    check_transition(item, StockAction.CANCEL_ASSIGNMENT)
    item.charges.filter(voided_at__isnull=True).update(
        voided_at=timezone.now(), void_reason=reason[:200] or "assignment cancelled"
    )
    if item.device is not None and item.device.client_id is not None:
        unbind_device(device=item.device)
    record_transition(
        item=item,
        action=StockAction.CANCEL_ASSIGNMENT,
        by=by,
        reason=reason,
        fields={"client": None, "region_id": item.store_region_id},
    )
    return item


@transaction.atomic
def report_fault(*, item: StockItem, by: Any = None, reason: str, client_damaged: bool = False) -> StockItem:
    """Record a fault (the maintenance task is opened by supervision or by the caller)."""
    if not reason.strip():
        raise StockError(_("Say what is wrong with the device."))
    item = _locked(item)
    record_transition(
        item=item,
        action=StockAction.REPORT_FAULT,
        by=by,
        reason=reason,
        data={"client_damaged": client_damaged},
        fields={"client_damaged": client_damaged},
    )
    if item.device is not None and item.device.client_id is not None:
        # A device that serves a client: the 2-hour remedy clock starts now, not at the next sweep.
        from .supervision import open_maintenance_task

        open_maintenance_task(
            device=item.device,
            reason=_(
                "%(device)s reported faulty: %(reason)s. Remedy within 2 hours: bring a substitute "
                "device or arrange manual service meanwhile."
            )
            % {"device": item, "reason": reason},
            now=timezone.now(),
        )
    return item


@transaction.atomic
def send_to_repair(*, item: StockItem, by: Any = None, reason: str = "") -> StockItem:
    """The faulty device leaves the home for repair; it no longer serves the client."""
    from pingantong.devices.actions import unbind_device

    item = _locked(item)
    check_transition(item, StockAction.SEND_TO_REPAIR)
    if item.device is not None and item.device.client_id is not None:
        unbind_device(device=item.device)
    record_transition(
        item=item,
        action=StockAction.SEND_TO_REPAIR,
        by=by,
        reason=reason,
        data={"client_id": item.client_id},
        fields={"client": None, "region_id": item.store_region_id},
    )
    return item


@transaction.atomic
def return_from_repair(*, item: StockItem, by: Any = None, reason: str = "") -> StockItem:
    """Repaired: back on the shelf, ready to be assigned again."""
    item = _locked(item)
    record_transition(
        item=item,
        action=StockAction.RETURN_FROM_REPAIR,
        by=by,
        reason=reason,
        fields={"client_damaged": False, "region_id": item.store_region_id},
    )
    return item


@transaction.atomic
def take_back(*, item: StockItem, by: Any = None, reason: str) -> StockItem:
    """The client leaves the service (or no longer wants the device): it comes back to stock."""
    from pingantong.devices.actions import unbind_device

    item = _locked(item)
    check_transition(item, StockAction.TAKE_BACK)
    if item.device is not None and item.device.client_id is not None:
        unbind_device(device=item.device)
    record_transition(
        item=item,
        action=StockAction.TAKE_BACK,
        by=by,
        reason=reason,
        data={"client_id": item.client_id},
        fields={"client": None, "region_id": item.store_region_id},
    )
    return item


@transaction.atomic
def retire_stock_item(*, item: StockItem, by: Any = None, reason: str) -> StockItem:
    """Beyond repair or lost: out of service for good (D4: replace what cannot be repaired)."""
    from pingantong.devices.actions import unbind_device
    from pingantong.devices.models import DeviceStatus

    if not reason.strip():
        raise StockError(_("Say why the device is retired."))
    item = _locked(item)
    check_transition(item, StockAction.RETIRE)
    if item.device is not None:
        if item.device.client_id is not None:
            unbind_device(device=item.device)
        item.device.status = DeviceStatus.RETIRED
        item.device.save(update_fields=["status", "updated_at"])
    record_transition(
        item=item,
        action=StockAction.RETIRE,
        by=by,
        reason=reason,
        fields={"client": None, "region_id": item.store_region_id},
    )
    return item
