"""Devices API: region-scoped reads, commands queued through the API, bad input refused."""

from __future__ import annotations

import pytest

from pingantong.accounts.choices import Role
from pingantong.clients.testing import OTHER_VILLAGE, VILLAGE, make_client
from pingantong.devices.actions import bind_device, register_device
from pingantong.devices.models import DeviceState, DownlinkCommand

pytestmark = pytest.mark.django_db


@pytest.fixture
def devices():
    bound = bind_device(
        device=register_device(protocol="watch", identity="111", device_type="watch"),
        client=make_client(region=VILLAGE),
    )
    unbound = register_device(protocol="watch", identity="222", device_type="watch")
    return bound, unbound


def ids(response):
    return {row["id"] for row in response.json()["results"]}


def test_village_role_sees_its_clients_devices_but_not_unbound_ones(api_client, user_factory, devices):
    bound, _unbound = devices
    api_client.force_authenticate(user_factory(Role.VILLAGE, VILLAGE))
    assert ids(api_client.get("/api/v1/devices/")) == {bound.pk}
    api_client.force_authenticate(user_factory(Role.VILLAGE, OTHER_VILLAGE))
    assert ids(api_client.get("/api/v1/devices/")) == set()
    assert api_client.get(f"/api/v1/devices/{bound.pk}/").status_code == 404


def test_district_agency_roles_see_unbound_devices_to_bind_them(api_client, user_factory, devices):
    bound, unbound = devices
    api_client.force_authenticate(user_factory(Role.AGENCY_ADMIN))
    assert ids(api_client.get("/api/v1/devices/")) == {bound.pk, unbound.pk}


def test_device_list_query_count_does_not_grow_with_devices(
    api_client, admin_user, devices, django_assert_max_num_queries
):
    for n in range(10):
        register_device(protocol="watch", identity=f"9{n}", device_type="watch")
    api_client.force_authenticate(admin_user)
    with django_assert_max_num_queries(6):
        assert api_client.get("/api/v1/devices/").status_code == 200


def test_detail_shows_position_and_logs_the_read(api_client, admin_user, devices):
    from auditlog.models import LogEntry

    bound, _ = devices
    DeviceState.objects.filter(device=bound).update(latitude=26.26, longitude=117.63, position_valid=True)
    api_client.force_authenticate(admin_user)
    body = api_client.get(f"/api/v1/devices/{bound.pk}/").json()
    assert body["position"]["latitude"] == 26.26
    assert LogEntry.objects.filter(object_pk=str(bound.pk)).exists()


def test_agent_queues_a_command_and_lists_it(api_client, user_factory, devices):
    bound, _ = devices
    api_client.force_authenticate(user_factory(Role.AGENT))
    response = api_client.post(
        f"/api/v1/devices/{bound.pk}/commands/",
        {"kind": "report_interval", "payload": {"seconds": 60}},
        format="json",
    )
    assert response.status_code == 201, response.content
    command = DownlinkCommand.objects.get()
    assert (command.kind, command.status, command.payload) == ("report_interval", "queued", {"seconds": 60})
    listed = api_client.get(f"/api/v1/devices/{bound.pk}/commands/").json()
    assert [c["id"] for c in listed] == [command.pk]
    assert ids(api_client.get("/api/v1/device-commands/")) == {command.pk}


def test_bad_command_parameters_are_refused_and_nothing_is_queued(api_client, user_factory, devices):
    bound, _ = devices
    api_client.force_authenticate(user_factory(Role.AGENT))
    for body in (
        {"kind": "report_interval", "payload": {"seconds": 1}},
        {"kind": "sos_numbers", "payload": {"numbers": ["abc"]}},
        {"kind": "teleport"},
    ):
        response = api_client.post(f"/api/v1/devices/{bound.pk}/commands/", body, format="json")
        assert response.status_code == 400, body
    assert not DownlinkCommand.objects.exists()


def test_auditor_may_read_but_not_command(api_client, user_factory, devices):
    bound, _ = devices
    api_client.force_authenticate(user_factory(Role.AUDITOR))
    assert api_client.get(f"/api/v1/devices/{bound.pk}/").status_code == 200
    response = api_client.post(f"/api/v1/devices/{bound.pk}/commands/", {"kind": "locate_now"}, format="json")
    assert response.status_code == 403
