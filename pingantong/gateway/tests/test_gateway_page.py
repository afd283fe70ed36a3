"""The gateway page (/gateway/): who may open it, what each role and region sees in it, binding a
terminal from the unknown-device inbox, the self-refreshing panel, zh-Hans first and English.

Through the Django test client on the real database; the figures come from rows the gateways
would have written (sessions in DeviceState, frames in RawFrame, commands in DownlinkCommand).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from pingantong.accounts.choices import Role
from pingantong.clients.testing import make_client
from pingantong.core.navigation import items_for
from pingantong.devices.actions import queue_command, register_device
from pingantong.devices.models import (
    CommandStatus,
    Device,
    DeviceState,
    RawFrame,
    UnknownDeviceInbox,
)
from pingantong.testing.regions import DISTRICT, TOWN_A, TOWN_B, ensure_regions, village_of
from pingantong.testing.users import make_user

pytestmark = pytest.mark.django_db
URL = "/gateway/"


@pytest.fixture
def fleet():
    """A watch in town A on node gw-1, a JT/T 808 pendant in town B on gw-2, frames of the last
    minute (one malformed each), a malformed frame from no known device, an unknown terminal in
    the inbox, and a command to each device."""
    ensure_regions()
    now = timezone.now()
    watch = register_device(
        protocol="watch", identity="3504001", device_type="watch", region_id=village_of(TOWN_A)
    )
    pendant = register_device(
        protocol="jt808", identity="13800001111", device_type="pendant", region_id=village_of(TOWN_B)
    )
    DeviceState.objects.filter(device=watch).update(connected_node="gw-1", connected_since=now)
    DeviceState.objects.filter(device=pendant).update(connected_node="gw-2", connected_since=now)

    def frame(device, protocol, node, *, error="", ago=5):
        return RawFrame(
            protocol=protocol,
            device=device,
            device_identity=device.identity if device else "",
            received_at=now - timedelta(seconds=ago),
            data=b"[3G*x]",
            error=error,
            gateway_node=node,
        )

    RawFrame.objects.bulk_create(
        [
            *(frame(watch, "watch", "gw-1") for _ in range(5)),
            frame(watch, "watch", "gw-1", error="bad length"),
            frame(watch, "watch", "gw-1", ago=3600),  # outside the rate window, not malformed
            *(frame(pendant, "jt808", "gw-2") for _ in range(2)),
            frame(pendant, "jt808", "gw-2", error="checksum mismatch"),
            frame(None, "watch", "gw-1", error="discarded 12 bytes outside any frame"),
        ]
    )
    unknown = UnknownDeviceInbox.objects.create(
        protocol="watch",
        identity="3504999",
        first_seen_at=now - timedelta(hours=2),
        last_seen_at=now,
        frame_count=7,
        last_alarms=["sos"],
    )
    located = queue_command(device=watch, kind="locate_now")
    located.status, located.confirmed_at, located.sent_at = CommandStatus.CONFIRMED, now, now
    located.save()
    interval = queue_command(device=pendant, kind="report_interval", payload={"seconds": 300})
    return {"watch": watch, "pendant": pendant, "unknown": unknown, "located": located, "interval": interval}


def login(client, role, region=DISTRICT, **extra):
    user = make_user(role, region, **extra)
    client.force_login(user)
    return user


def cells(html: str, testid: str) -> dict[str, str]:
    """The data-field cells of one row, by field name."""
    import re

    row = html.split(f'data-testid="{testid}"', 1)[1].split("</tr>", 1)[0]
    return {m[0]: m[1].strip() for m in re.findall(r'data-field="(\w+)">([^<]*)<', row)}


def test_installer_of_a_town_sees_only_that_towns_devices(client, fleet):
    login(client, Role.FIELD_WORKER, TOWN_A)
    page = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    # 6 frames of the watch in the last minute (one malformed) = 0.10/s; its device-less neighbour
    # frame sits in the district and is not this town's.
    assert cells(html, "listener-watch-gw-1") == {"sessions": "1", "rate": "0.10", "malformed": "1"}
    assert 'data-testid="listener-jt808-gw-2"' not in html
    assert f'data-testid="downlink-{fleet["located"].pk}"' in html
    assert f'data-testid="downlink-{fleet["interval"].pk}"' not in html
    assert f'data-testid="inbox-{fleet["unknown"].pk}"' not in html  # the inbox sits in the district


def test_district_installer_sees_every_listener_the_inbox_and_device_less_frames(client, fleet):
    login(client, Role.FIELD_WORKER, DISTRICT)
    html = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert cells(html, "listener-watch-gw-1") == {"sessions": "1", "rate": "0.12", "malformed": "2"}
    assert cells(html, "listener-jt808-gw-2") == {"sessions": "1", "rate": "0.05", "malformed": "1"}
    assert cells(html, "protocol-jt808") == {"sessions": "1", "rate": "0.05", "malformed": "1"}
    row = html.split(f'data-testid="inbox-{fleet["unknown"].pk}"', 1)[1].split("</tr>", 1)[0]
    assert "3504999" in row and "sos" in row
    assert f'action="/gateway/inbox/{fleet["unknown"].pk}/bind/"' in row
    assert "Confirmed" in html and "Queued" in html


@pytest.mark.parametrize("role", [Role.AGENCY_ADMIN, Role.SYSADMIN])
def test_administrators_may_open_the_page(client, fleet, role):
    login(client, role, DISTRICT)
    assert client.get(URL).status_code == 200
    assert client.get("/gateway/panel/").status_code == 200


@pytest.mark.parametrize("role", [Role.AGENT, Role.VILLAGE, Role.TOWNSHIP, Role.AUDITOR, Role.SUPERVISOR])
def test_other_roles_are_refused(client, fleet, role):
    login(client, role, DISTRICT)
    assert client.get(URL).status_code == 403
    assert client.get("/gateway/panel/").status_code == 403
    response = client.post(f"/gateway/inbox/{fleet['unknown'].pk}/bind/", {"device_type": "watch"})
    assert response.status_code == 403
    assert not Device.objects.filter(identity="3504999").exists()


def test_anonymous_is_sent_to_the_login(client, fleet):
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_navigation_has_the_page_for_installers_and_administrators_only(fleet):
    for role in (Role.FIELD_WORKER, Role.AGENCY_ADMIN, Role.SYSADMIN):
        assert "/gateway/" in [i["url"] for i in items_for(make_user(role, DISTRICT))], role
    for role in (Role.AGENT, Role.VILLAGE, Role.DISTRICT):
        assert "/gateway/" not in [i["url"] for i in items_for(make_user(role, DISTRICT))], role


def test_binding_an_unknown_terminal_registers_it_to_the_client(client, fleet):
    login(client, Role.FIELD_WORKER, DISTRICT)
    person = make_client(region=village_of(TOWN_A))
    response = client.post(
        f"/gateway/inbox/{fleet['unknown'].pk}/bind/",
        {"device_type": "watch", "model_name": "Q50", "client": person.pk},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    assert response.status_code == 200
    device = Device.objects.get(protocol="watch", identity="3504999")
    assert device.client == person and device.region_id == person.region_id
    assert device.model_name == "Q50" and device.device_type_id == "watch"
    fleet["unknown"].refresh_from_db()
    assert fleet["unknown"].bound_device == device
    html = response.content.decode()
    assert "registered and bound" in html
    assert f'data-testid="inbox-{fleet["unknown"].pk}"' not in html  # off the inbox


def test_binding_without_a_client_leaves_the_device_unbound_in_the_district(client, fleet):
    login(client, Role.AGENCY_ADMIN, DISTRICT)
    client.post(f"/gateway/inbox/{fleet['unknown'].pk}/bind/", {"device_type": "watch"})
    device = Device.objects.get(protocol="watch", identity="3504999")
    assert device.client is None and device.region_id == DISTRICT


def test_binding_to_a_client_out_of_reach_changes_nothing(client, fleet):
    login(client, Role.FIELD_WORKER, DISTRICT)
    response = client.post(
        f"/gateway/inbox/{fleet['unknown'].pk}/bind/",
        {"device_type": "watch", "client": 999999},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    assert "No client with that number" in response.content.decode()
    assert not Device.objects.filter(identity="3504999").exists()


def test_a_town_installer_cannot_bind_a_district_inbox_row(client, fleet):
    login(client, Role.FIELD_WORKER, TOWN_A)
    response = client.post(f"/gateway/inbox/{fleet['unknown'].pk}/bind/", {"device_type": "watch"})
    assert response.status_code == 404
    assert not Device.objects.filter(identity="3504999").exists()


def test_panel_refreshes_itself_without_the_inbox_forms(client, fleet):
    login(client, Role.FIELD_WORKER, DISTRICT)
    html = client.get("/gateway/panel/").content.decode()
    assert 'hx-get="/gateway/panel/"' in html and 'hx-trigger="every 10s"' in html
    assert 'data-testid="listeners"' in html and 'data-testid="downlinks"' in html
    assert "/bind/" not in html  # typing in a form is never wiped by the refresh


def test_page_speaks_chinese_first_and_english_on_request(client, fleet):
    login(client, Role.FIELD_WORKER, DISTRICT)
    zh = client.get(URL, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "设备网关" in zh and "未知设备" in zh and "连接会话" in zh
    en = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Device gateway" in en and "Unknown devices" in en


def test_page_queries_do_not_grow_with_the_fleet(client, fleet, django_assert_max_num_queries):
    login(client, Role.FIELD_WORKER, DISTRICT)
    for n in range(20):
        extra = register_device(protocol="watch", identity=f"35049{n:03d}", device_type="watch")
        queue_command(device=extra, kind="locate_now")
    with django_assert_max_num_queries(20):
        assert client.get(URL).status_code == 200


def test_binding_with_an_unknown_device_type_names_the_field_and_changes_nothing(client, fleet):
    login(client, Role.FIELD_WORKER, DISTRICT)
    response = client.post(
        f"/gateway/inbox/{fleet['unknown'].pk}/bind/",
        {"device_type": "toaster"},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    assert "Not registered: Device type" in response.content.decode()
    assert not Device.objects.filter(identity="3504999").exists()


def test_overview_api_gives_the_same_figures_within_the_users_regions(fleet):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(make_user(Role.FIELD_WORKER, TOWN_A))
    body = api.get("/api/v1/gateway/overview/").json()
    assert [
        (r["protocol"], r["node"], r["sessions"], r["messages"], r["malformed"]) for r in body["listeners"]
    ] == [("watch", "gw-1", 1, 6, 1)]
    assert body["unknown_devices"] == 0 and body["rate_window_s"] == 60
    api.force_authenticate(make_user(Role.SYSADMIN, DISTRICT))
    body = api.get("/api/v1/gateway/overview/").json()
    assert {r["protocol"]: r["malformed"] for r in body["protocols"]} == {"jt808": 1, "watch": 2}
    assert body["unknown_devices"] == 1
    api.force_authenticate(make_user(Role.AGENT, DISTRICT))
    assert api.get("/api/v1/gateway/overview/").status_code == 403
