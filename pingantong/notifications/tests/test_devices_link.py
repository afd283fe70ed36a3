"""The adapters onto the devices app: broadcasts by device type (Q3) and the latest device fix
for the S08 location page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pingantong.clients.testing import make_client
from pingantong.notifications import broadcasts
from pingantong.notifications.selectors import broadcast_clients, latest_position

pytestmark = pytest.mark.django_db


def _device(client, type_code, identity, **state):
    from pingantong.devices.models import Device, DeviceState

    device = Device.objects.create(
        protocol="watch",
        identity=identity,
        device_type_id=type_code,
        client=client,
        region_id=client.region_id,
    )
    if state:
        DeviceState.objects.create(device=device, **state)
    return device


def test_broadcast_targets_only_clients_with_an_active_device_of_the_type():
    watch_wearer, door_only, nothing = make_client(), make_client(), make_client()
    _device(watch_wearer, "watch", "W1")
    _device(door_only, "door", "D1")
    draft = broadcasts.create_broadcast(
        kind="policy",
        title="手表升级",
        region="350404000000",
        params={"title": "手表升级", "explanation": "请保持开机。"},
        device_types=["watch"],
    )
    assert list(broadcast_clients(draft)) == [watch_wearer]
    assert nothing not in broadcast_clients(draft)


def test_latest_position_prefers_the_freshest_valid_device_fix_over_home():
    person = make_client(home_lat=26.0, home_lon=117.0)
    assert latest_position(person).source == "home"
    _device(
        person,
        "watch",
        "W2",
        latitude=26.27,
        longitude=117.64,
        position_valid=True,
        position_at=datetime(2026, 11, 28, 1, 0, tzinfo=UTC),
    )
    _device(
        person,
        "jt808_tracker",
        "T2",
        latitude=26.30,
        longitude=117.60,
        position_valid=True,
        position_at=datetime(2026, 11, 28, 2, 0, tzinfo=UTC),
    )
    _device(
        person,
        "pendant",
        "P2",
        latitude=1.0,
        longitude=1.0,
        position_valid=False,
        position_at=datetime(2026, 11, 28, 3, 0, tzinfo=UTC),
    )
    position = latest_position(person)
    assert (position.source, position.latitude, position.longitude) == ("device", 26.30, 117.60)
