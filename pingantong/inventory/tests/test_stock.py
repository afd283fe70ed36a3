"""Every stock transition, legal and illegal, through the actions, with its history (issue 8 §2)."""

from __future__ import annotations

import pytest

from pingantong.clients.testing import make_client
from pingantong.inventory import actions
from pingantong.inventory.actions import TRANSITIONS, StockError
from pingantong.inventory.choices import StockAction, StockState
from pingantong.inventory.models import StockEvent

from .helpers import item_in_state, model, new_item

pytestmark = pytest.mark.django_db

ALL_STATES = list(StockState.values)


def _do(action: str, item, client=None):
    """Run the public action for `action` on `item`."""
    if action == StockAction.ASSIGN:
        return actions.assign_stock_item(item=item, client=client or make_client())[0]
    if action == StockAction.CANCEL_ASSIGNMENT:
        return actions.cancel_assignment(item=item, reason="client changed mind")
    if action == StockAction.INSTALL:
        from pingantong.inventory.actions.stock import record_transition

        record_transition(item=item, action="install")
        return item
    if action == StockAction.REPORT_FAULT:
        return actions.report_fault(item=item, reason="no power")
    if action == StockAction.SEND_TO_REPAIR:
        return actions.send_to_repair(item=item)
    if action == StockAction.RETURN_FROM_REPAIR:
        return actions.return_from_repair(item=item)
    if action == StockAction.REPLACE:
        return actions.replace_stock_item(item=item, substitute=new_item())[0]
    if action == StockAction.TAKE_BACK:
        return actions.take_back(item=item, reason="client left")
    if action == StockAction.RETIRE:
        return actions.retire_stock_item(item=item, reason="beyond repair")
    raise AssertionError(action)


LEGAL = [(a, s) for a, (froms, _t) in TRANSITIONS.items() for s in sorted(froms)]
ILLEGAL = [(a, s) for a, (froms, _t) in TRANSITIONS.items() for s in ALL_STATES if s not in froms]


def test_the_table_covers_every_state_and_retired_is_final():
    reachable = {t for _f, t in TRANSITIONS.values()}
    assert reachable | {StockState.IN_STOCK} == set(ALL_STATES)
    assert not any(StockState.RETIRED in froms for froms, _t in TRANSITIONS.values())


@pytest.mark.parametrize(("action", "state"), LEGAL)
def test_legal_transition_moves_the_item_and_records_history(action, state):
    item = item_in_state(state)
    before = StockEvent.objects.filter(item=item).count()
    _do(action, item)
    item.refresh_from_db()
    assert item.state == TRANSITIONS[action][1]
    last = StockEvent.objects.filter(item=item).order_by("-id").first()
    assert StockEvent.objects.filter(item=item).count() == before + 1
    assert (last.action, last.from_state, last.to_state) == (action, state, TRANSITIONS[action][1])


@pytest.mark.parametrize(("action", "state"), ILLEGAL)
def test_illegal_transition_is_refused_with_a_clear_message_and_changes_nothing(action, state):
    item = item_in_state(state)
    events = StockEvent.objects.filter(item=item).count()
    with pytest.raises(StockError) as excinfo:
        _do(action, item)
    message = str(excinfo.value)
    assert item.serial in message and "allowed only when" in message
    item.refresh_from_db()
    assert item.state == state
    assert StockEvent.objects.filter(item=item).count() == events


def test_a_repaired_device_goes_back_to_stock_and_can_serve_another_client():
    first, second = make_client(), make_client(address="别处")
    item = item_in_state(StockState.IN_REPAIR, client=first)
    actions.return_from_repair(item=item, reason="new battery")
    item.refresh_from_db()
    assert (
        item.state == StockState.IN_STOCK and item.client is None and item.region_id == item.store_region_id
    )
    item, _charge = actions.assign_stock_item(item=item, client=second)
    assert item.client == second and item.device.client == second
    history = list(item.events.values_list("action", flat=True))
    assert history == [
        "receive",
        "assign",
        "install",
        "report_fault",
        "send_to_repair",
        "return_from_repair",
        "assign",
    ]


def test_assigning_binds_the_device_to_the_client_and_takes_the_clients_region():
    client = make_client()
    item, _charge = actions.assign_stock_item(item=new_item(), client=client)
    assert item.region_id == client.region_id
    item.device.refresh_from_db()
    assert item.device.client_id == client.pk and item.device.region_id == client.region_id


def test_replacement_keeps_history_on_both_devices_and_binds_the_substitute():
    client = make_client()
    old = item_in_state(StockState.FAULTY, client=client)
    substitute = new_item()
    new, charge = actions.replace_stock_item(item=old, substitute=substitute, reason="water damage")
    old.refresh_from_db()
    assert old.state == StockState.REPLACED and old.replaced_by == new and old.client is None
    assert old.device.client_id is None
    assert new.state == StockState.ASSIGNED and new.client == client and new.device.client_id == client.pk
    assert old.events.filter(action="replace", client=client).exists()
    assert charge.kind == "warranty_replacement"


def test_a_substitute_that_is_not_in_stock_is_refused():
    client = make_client()
    old = item_in_state(StockState.FAULTY, client=client)
    busy = item_in_state(StockState.INSTALLED)
    with pytest.raises(StockError, match=busy.serial):
        actions.replace_stock_item(item=old, substitute=busy)
    old.refresh_from_db()
    assert old.state == StockState.FAULTY


def test_receiving_registers_the_device_and_refuses_duplicates_and_bad_iccid():
    item = new_item(identity="4700000001")
    assert item.device.identity == "4700000001" and item.device.device_type_id == "watch"
    with pytest.raises(StockError, match="already in stock"):
        actions.receive_stock_item(serial=item.serial, device_model=model())
    with pytest.raises(StockError, match="ICCID"):
        actions.receive_stock_item(serial="X1", device_model=model(), iccid="12ab")
    with pytest.raises(StockError, match="already in stock"):
        actions.receive_stock_item(serial="X2", device_model=model(), identity="4700000001")


def test_cancelling_an_assignment_voids_its_charge_and_unbinds():
    client = make_client()
    item, charge = actions.assign_stock_item(item=new_item(), client=client)
    actions.cancel_assignment(item=item, reason="wrong size")
    charge.refresh_from_db()
    item.device.refresh_from_db()
    assert charge.voided_at is not None and item.device.client_id is None


def test_retiring_marks_the_registry_entry_retired():
    item = item_in_state(StockState.FAULTY)
    actions.retire_stock_item(item=item, reason="burnt")
    item.device.refresh_from_db()
    assert item.device.status == "retired" and item.device.client_id is None


def test_no_device_for_a_client_who_left():
    client = make_client(status="terminated")
    with pytest.raises(StockError, match="left the service"):
        actions.assign_stock_item(item=new_item(), client=client)
