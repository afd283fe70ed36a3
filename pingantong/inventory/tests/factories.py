"""Access-test factories of the inventory app (see pingantong.testing.access_matrix): one saved
record in the given region for each restricted model with an API or list page."""

from __future__ import annotations

import itertools

from django.utils import timezone

_seq = itertools.count(1)


def _ensure_catalogue() -> None:
    from pingantong.inventory.catalogue import ensure_catalogue

    ensure_catalogue()


def make_stock_item(region: str):
    from pingantong.inventory.actions import receive_stock_item
    from pingantong.inventory.models import DeviceModel

    _ensure_catalogue()
    n = next(_seq)
    return receive_stock_item(
        serial=f"ACC{n:06d}",
        device_model=DeviceModel.objects.filter(device_type_id="watch").first(),
        identity=f"49{n:08d}",
        store_region=region,
    )


def make_stock_event(region: str):
    return make_stock_item(region).events.get()


def make_charge(region: str):
    from pingantong.clients.testing import make_client
    from pingantong.inventory.actions import assign_stock_item

    client = make_client(region=region)
    _item, charge = assign_stock_item(item=make_stock_item(region), client=client)
    return charge


def make_installation(region: str):
    from pingantong.clients.testing import make_client
    from pingantong.inventory.models import Installation
    from pingantong.testing.users import make_user

    client = make_client(region=region)
    return Installation.objects.create(
        client=client, region_id=client.region_id, installer=make_user(), started_at=timezone.now()
    )


def make_check(region: str):
    from pingantong.inventory.models import DeviceCheck

    item = make_stock_item(region)
    return DeviceCheck.objects.create(
        device=item.device,
        region_id=region,
        week=f"2026-W{next(_seq) % 50 + 1:02d}",
        checked_at=timezone.now(),
        result="passed",
    )


ACCESS_FACTORIES = {
    "inventory.StockItem": make_stock_item,
    "inventory.StockEvent": make_stock_event,
    "inventory.Charge": make_charge,
    "inventory.Installation": make_installation,
    "inventory.DeviceCheck": make_check,
}


def make_installation_item(region: str):
    from pingantong.inventory.models import InstallationItem

    installation = make_installation(region)
    item = make_stock_item(region)
    return InstallationItem.objects.create(
        installation=installation, item=item, bound_at=timezone.now(), region_id=installation.region_id
    )


def make_photo(region: str):
    from pingantong.inventory.models import InstallationPhoto

    return InstallationPhoto.objects.create(
        installation=make_installation(region),
        image="inventory/installations/test.jpg",
        uploaded_at=timezone.now(),
    )


def make_test_call(region: str):
    from pingantong.inventory.models import TestCall

    item = make_stock_item(region)
    return TestCall.objects.create(device=item.device, region_id=region, at=timezone.now())


ACCESS_FACTORIES.update(
    {
        "inventory.InstallationItem": make_installation_item,
        "inventory.InstallationPhoto": make_photo,
        "inventory.TestCall": make_test_call,
    }
)
