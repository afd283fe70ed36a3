"""In a real Chromium: an installer finds a watch that is not registered yet on the gateway page,
registers and binds it to its client through the page's form, and — once the watch reconnects —
sees its session counted there, the panel refreshing itself (htmx) with no reload.

The watch is a real socket talking to a real gateway listener in this process (the embedded
mode's arrangement: web and gateway share the database)."""

from __future__ import annotations

import pytest

from pingantong.accounts.choices import Role
from pingantong.clients.testing import make_client
from pingantong.demo.simulator.frames import watch_lk
from pingantong.devices.models import Device, UnknownDeviceInbox
from pingantong.gateway.tests.gwtools import Terminal, ensure_reference_data, running_gateway
from pingantong.testing.regions import DISTRICT, TOWN_A, village_of
from pingantong.testing.waiting import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WATCH = "3504777001"


def test_installer_registers_an_unknown_watch_and_sees_its_session(page, live_server, user_factory, password):
    ensure_reference_data()
    installer = user_factory(Role.FIELD_WORKER, DISTRICT)
    elder = make_client(name="李桂兰", region=village_of(TOWN_A))
    with running_gateway(ports={"watch": 0}, node="gw-browser") as (_gateway, ports, _lt):
        watch = Terminal(ports["watch"])
        watch.send(watch_lk(WATCH, battery=80))
        assert watch.read_until(b"]").endswith(b"LK]")  # answered although unknown
        wait_for(lambda: UnknownDeviceInbox.objects.filter(identity=WATCH).exists())
        row = UnknownDeviceInbox.objects.get(identity=WATCH)

        page.goto(f"{live_server.url}/login/?next=/gateway/")
        page.fill("#id_username", installer.username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_url("**/gateway/")
        assert page.locator("h1").inner_text() == "设备网关"
        inbox_row = page.get_by_test_id(f"inbox-{row.pk}")
        assert WATCH in inbox_row.inner_text()
        inbox_row.locator("select[name=device_type]").select_option("watch")
        inbox_row.locator("input[name=client]").fill(str(elder.pk))
        inbox_row.locator("button[type=submit]").click()
        page.wait_for_load_state()
        assert "已登记并绑定到 李桂兰" in page.locator("main").inner_text()
        device = Device.objects.get(protocol="watch", identity=WATCH)
        assert device.client_id == elder.pk
        assert page.get_by_test_id(f"inbox-{row.pk}").count() == 0

        # The watch reconnects as a registered device; the panel picks it up on its next refresh.
        watch.close()
        watch = Terminal(ports["watch"])
        watch.send(watch_lk(WATCH, battery=79))
        watch.read_until(b"]")
        from playwright.sync_api import expect

        sessions = page.get_by_test_id("listener-watch-gw-browser").locator("[data-field=sessions]")
        expect(sessions).to_have_text("1", timeout=25000)  # the 10 s htmx refresh, no reload
        watch.close()
