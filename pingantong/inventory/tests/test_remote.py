"""Remote configuration from the device page through the downlink queue, with the device's
confirmation shown (one test over a real gateway socket)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pingantong.accounts.choices import Role
from pingantong.clients.testing import make_client, make_contact
from pingantong.devices.models import DeviceState, DownlinkCommand
from pingantong.gateway.tests.gwtools import Terminal, running_gateway
from pingantong.inventory import actions
from pingantong.testing.users import make_user
from pingantong.testing.waiting import wait_for

from .helpers import model, new_item

TOWN = "350404001000"


def _bound_watch(identity: str = "4700186508"):
    elder = make_client()
    make_contact(elder, phone="13700000002", priority=2)
    make_contact(elder, phone="137-0000-0001", priority=1)
    item, _ = actions.assign_stock_item(item=new_item(model("watch"), identity=identity), client=elder)
    return item.device


@pytest.mark.django_db
def test_sos_numbers_are_filled_from_the_clients_contacts_in_order():
    device = _bound_watch()
    command = actions.configure_device(device=device, kind="sos_numbers")
    assert command.payload == {"numbers": ["13700000001", "13700000002"]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "value", "payload"),
    [
        ("locate_now", None, {}),
        ("report_interval", 300, {"seconds": 300}),
        ("clock_zone", "+08:00", {"minutes": 480}),
        ("clock_zone", "-05:30", {"minutes": -330}),
    ],
)
def test_configuration_is_queued_for_the_gateway(kind, value, payload):
    device = _bound_watch()
    command = actions.configure_device(device=device, kind=kind, value=value)
    assert (command.kind, command.payload, command.status) == (kind, payload, "queued")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [("report_interval", 5, "between"), ("clock_zone", "noon", r"\+08:00"), ("reboot", None, "Unknown")],
)
def test_bad_configuration_is_refused_and_nothing_is_queued(kind, value, message):
    device = _bound_watch()
    with pytest.raises(actions.RemoteConfigError, match=message):
        actions.configure_device(device=device, kind=kind, value=value)
    assert not DownlinkCommand.objects.exists()


@pytest.mark.django_db
def test_home_sensors_take_no_downlink():
    elder = make_client()
    item, _ = actions.assign_stock_item(item=new_item(model("door")), client=elder)
    with pytest.raises(actions.RemoteConfigError, match="mqtt"):
        actions.configure_device(device=item.device, kind="locate_now")


@pytest.mark.django_db(transaction=True)
def test_device_page_sends_sos_numbers_and_shows_the_devices_confirmation(client):
    from pingantong.inventory.catalogue import ensure_catalogue

    ensure_catalogue()
    device = _bound_watch()
    client.force_login(make_user(Role.FIELD_WORKER, TOWN))
    page = client.get(reverse("inventory:device", args=[device.pk])).content.decode()
    assert "13700000001, 13700000002" in page
    with running_gateway(ports={"watch": 0}) as (_gateway, ports, _lt):
        watch = Terminal(ports["watch"])
        watch.send(b"[3G*4700186508*0008*LK,0,0,90]")
        watch.read_until(b"]")
        wait_for(lambda: DeviceState.objects.get(device=device).connected_node == "test-node")
        client.post(reverse("inventory:device-configure", args=[device.pk]), {"kind": "sos_numbers"})
        assert watch.read_until(b"]") == b"[3G*4700186508*001b*SOS,13700000001,13700000002]"
        commands_url = reverse("inventory:device-commands", args=[device.pk])
        assert 'hx-trigger="every 2s"' in client.get(commands_url).content.decode()  # still pending
        watch.send(b"[3G*4700186508*0003*SOS]")
        wait_for(lambda: DownlinkCommand.objects.get(device=device).status == "confirmed")
        watch.close()
    partial = client.get(commands_url).content.decode()
    assert "hx-trigger" not in partial and "text-bg-success" in partial


@pytest.mark.django_db
def test_device_page_shows_the_last_position_and_records_the_read(client):
    from auditlog.models import LogEntry
    from django.utils import timezone

    device = _bound_watch()
    DeviceState.objects.filter(device=device).update(
        latitude=26.26341, longitude=117.63892, position_valid=True, position_at=timezone.now()
    )
    client.force_login(make_user(Role.FIELD_WORKER, TOWN))
    html = client.get(reverse("inventory:device", args=[device.pk])).content.decode()
    assert 'data-testid="position"' in html and "26.26341" in html
    assert LogEntry.objects.filter(object_pk=str(device.pk)).exists()
