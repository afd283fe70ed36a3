"""Test helpers of the inventory app: stock items in a given state, the catalogue's models."""

from __future__ import annotations

import itertools
from typing import Any

from pingantong.inventory.choices import StockState
from pingantong.inventory.models import DeviceModel, StockItem

_seq = itertools.count(1)


def model(code: str = "watch", *, multi: bool = False) -> DeviceModel:
    return DeviceModel.objects.filter(device_type_id=code, multi_function=multi).order_by("price").first()  # type: ignore[return-value]


def new_item(
    device_model: DeviceModel | None = None, *, region: str | None = None, **fields: Any
) -> StockItem:
    from pingantong.inventory.actions import receive_stock_item

    n = next(_seq)
    device_model = device_model or model()
    return receive_stock_item(
        serial=f"SN{n:06d}",
        device_model=device_model,
        imei=fields.pop("imei", f"86{n:013d}"),
        identity=fields.pop("identity", f"47{n:08d}"),
        iccid=fields.pop("iccid", f"898600{n:013d}"),
        sim_number=fields.pop("sim_number", f"1440{n:09d}"),
        store_region=region,
    )


def item_in_state(state: str, client: Any = None) -> StockItem:
    """A stock item brought to `state` through the actions (so its history is real)."""
    from pingantong.clients.testing import make_client
    from pingantong.inventory import actions

    item = new_item()
    if state == StockState.IN_STOCK:
        return item
    if state == StockState.IN_REPAIR or (state == StockState.FAULTY and client is None):
        pass
    client = client or make_client()
    if state == StockState.RETIRED:
        return actions.retire_stock_item(item=item, reason="test")
    item, _ = actions.assign_stock_item(item=item, client=client)
    if state == StockState.ASSIGNED:
        return item
    from pingantong.inventory.actions.stock import record_transition

    record_transition(item=item, action="install")
    if state == StockState.INSTALLED:
        return item
    item = actions.report_fault(item=item, reason="screen broken")
    if state == StockState.FAULTY:
        return item
    if state == StockState.REPLACED:
        actions.replace_stock_item(item=item, substitute=new_item())
        item.refresh_from_db()
        return item
    item = actions.send_to_repair(item=item)
    if state == StockState.IN_REPAIR:
        return item
    raise AssertionError(state)
