"""The subsidy rules of F2, enforced when a device is assigned, each case with its Charge record."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pingantong.clients.testing import make_client
from pingantong.inventory import actions
from pingantong.inventory.choices import ChargeKind, StockState
from pingantong.inventory.models import Charge
from pingantong.inventory.subsidy import household_key

from .helpers import item_in_state, model, new_item

pytestmark = pytest.mark.django_db

ADDRESS = "列东街道江滨社区 3 号楼 101"


def test_first_basic_terminal_of_a_household_is_free():
    client = make_client(address=ADDRESS)
    _item, charge = actions.assign_stock_item(item=new_item(model("watch")), client=client)
    assert charge.kind == ChargeKind.FIRST_BASIC_FREE
    assert charge.client_amount == Decimal("0.00") and charge.subsidy_amount == Decimal("399.00")
    assert charge.uses_basic_subsidy and "free" in charge.explanation


def test_second_basic_terminal_in_the_same_household_is_charged_in_full():
    husband = make_client(address=ADDRESS)
    wife = make_client(
        address=" 列东街道江滨社区3号楼101 ", region=husband.region_id
    )  # same home, spelt differently
    actions.assign_stock_item(item=new_item(model("watch")), client=husband)
    _item, charge = actions.assign_stock_item(item=new_item(model("pendant")), client=wife)
    assert household_key(husband) == household_key(wife)
    assert charge.kind == ChargeKind.SECOND_BASIC and charge.client_amount == Decimal("359.00")
    assert "one per household" in charge.explanation


def test_the_same_client_gets_no_second_free_basic_device():
    client = make_client(address=ADDRESS)
    actions.assign_stock_item(item=new_item(model("watch")), client=client)
    _item, charge = actions.assign_stock_item(item=new_item(model("watch")), client=client)
    assert charge.kind == ChargeKind.SECOND_BASIC and not charge.is_free


def test_same_address_in_another_village_is_another_household():
    a = make_client(address=ADDRESS)
    b = make_client(address=ADDRESS, region="350404002001")
    actions.assign_stock_item(item=new_item(model("watch")), client=a)
    _item, charge = actions.assign_stock_item(item=new_item(model("watch")), client=b)
    assert charge.kind == ChargeKind.FIRST_BASIC_FREE


def test_multi_function_device_costs_the_price_difference():
    client = make_client(address=ADDRESS)
    _item, charge = actions.assign_stock_item(item=new_item(model("watch", multi=True)), client=client)
    assert charge.kind == ChargeKind.MULTI_FUNCTION_DIFFERENCE
    assert charge.price == Decimal("699.00") and charge.subsidy_amount == Decimal("359.00")
    assert charge.client_amount == Decimal("340.00")  # 699 − the cheapest basic model (pendant, 359)
    assert "difference" in charge.explanation and charge.uses_basic_subsidy


def test_replacement_after_damage_by_the_client_is_charged_to_the_client():
    client = make_client(address=ADDRESS)
    old = item_in_state(StockState.INSTALLED, client=client)
    actions.report_fault(item=old, reason="dropped in the river", client_damaged=True)
    _new, charge = actions.replace_stock_item(item=old, substitute=new_item(model("watch")))
    assert charge.kind == ChargeKind.DAMAGE_REPLACEMENT and charge.client_amount == Decimal("399.00")
    assert "client's fault" in charge.explanation


def test_replacement_of_a_device_that_simply_failed_is_free():
    client = make_client(address=ADDRESS)
    old = item_in_state(StockState.INSTALLED, client=client)
    actions.report_fault(item=old, reason="will not charge")
    _new, charge = actions.replace_stock_item(item=old, substitute=new_item(model("watch")))
    assert charge.kind == ChargeKind.WARRANTY_REPLACEMENT and charge.is_free


def test_additional_sensors_are_charged_at_their_price():
    client = make_client(address=ADDRESS)
    _item, charge = actions.assign_stock_item(item=new_item(model("door")), client=client)
    assert charge.kind == ChargeKind.ADDITIONAL_DEVICE and charge.client_amount == Decimal("49.00")


def test_a_cancelled_assignment_releases_the_households_free_terminal():
    client = make_client(address=ADDRESS)
    item, _charge = actions.assign_stock_item(item=new_item(model("watch")), client=client)
    actions.cancel_assignment(item=item, reason="chose a pendant")
    _item, charge = actions.assign_stock_item(item=new_item(model("pendant")), client=client)
    assert charge.kind == ChargeKind.FIRST_BASIC_FREE
    assert Charge.objects.filter(client=client, voided_at__isnull=True).count() == 1


def test_client_without_an_address_is_a_household_of_one():
    a, b = make_client(address=""), make_client(address="")
    assert household_key(a) != household_key(b)


def test_preview_tells_the_installer_before_anything_is_written():
    client = make_client(address=ADDRESS)
    item = new_item(model("watch"))
    decision = actions.preview_charge(item=item, client=client)
    assert decision.kind == ChargeKind.FIRST_BASIC_FREE
    assert not Charge.objects.exists()
