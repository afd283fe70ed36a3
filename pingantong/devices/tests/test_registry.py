"""The device registry: seeded types, identity unique per protocol, binding moves the region."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError

from pingantong.clients.testing import OTHER_VILLAGE, VILLAGE, make_client
from pingantong.devices.actions import bind_device, register_device, unbind_device
from pingantong.devices.models import Device, DeviceState, DeviceType, default_unbound_region_code
from pingantong.devices.models.registry import parse_tz_offset
from pingantong.devices.selectors import last_life_sign_for_client

pytestmark = pytest.mark.django_db


def test_device_types_are_seeded_with_what_proves_the_person():
    assert DeviceType.objects.get(code="watch").proves_person
    assert DeviceType.objects.get(code="motion").proves_person
    assert not DeviceType.objects.get(code="smoke").proves_person
    assert DeviceType.objects.count() >= 11


def test_identity_is_unique_per_protocol_only():
    register_device(protocol="watch", identity="123456", device_type="watch")
    register_device(protocol="jt808", identity="123456", device_type="jt808_tracker")
    with pytest.raises(IntegrityError):
        Device.objects.create(protocol="watch", identity="123456", device_type_id="watch")


def test_new_device_is_unbound_in_the_district_with_the_default_clock_zone():
    device = register_device(protocol="watch", identity="1", device_type="watch")
    assert device.client is None and not device.is_bound
    assert device.region_id == default_unbound_region_code()
    assert device.tz_offset_minutes == 480


def test_binding_takes_the_clients_region_and_unbinding_returns_to_the_district():
    client = make_client(region=VILLAGE)
    device = register_device(protocol="watch", identity="1", device_type="watch")
    bind_device(device=device, client=client)
    device.refresh_from_db()
    assert device.client == client and device.region_id == VILLAGE
    unbind_device(device=device)
    device.refresh_from_db()
    assert device.client is None and device.region_id == default_unbound_region_code()


@pytest.mark.parametrize(
    ("text", "minutes"), [("+08:00", 480), ("-0530", -330), ("+8", 480), ("UTC+5:45", 345)]
)
def test_parse_tz_offset(text, minutes):
    assert parse_tz_offset(text) == minutes


def test_last_life_sign_for_client_takes_the_newest_over_all_devices():
    client = make_client(region=VILLAGE)
    make_client(region=OTHER_VILLAGE)
    now = datetime.now(UTC)
    bound = now - timedelta(days=1)
    watch = bind_device(
        device=register_device(protocol="watch", identity="1", device_type="watch"), client=client, now=bound
    )
    door = bind_device(
        device=register_device(protocol="mqtt", identity="door1", device_type="door"),
        client=client,
        now=bound,
    )
    DeviceState.objects.filter(device=watch).update(
        last_life_sign_at=now - timedelta(hours=5), last_life_sign_source="steps", last_device_seen_at=now
    )
    DeviceState.objects.filter(device=door).update(
        last_life_sign_at=now - timedelta(hours=1), last_life_sign_source="sensor"
    )
    sign = last_life_sign_for_client(client.pk)
    assert sign.device_id == door.pk and sign.source == "sensor"
    assert sign.last_life_sign_at == now - timedelta(hours=1)
    assert sign.last_device_seen_at == now
    assert last_life_sign_for_client(-1).last_life_sign_at is None
