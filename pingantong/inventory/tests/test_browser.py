"""In a real Chromium on a phone-sized viewport: a field worker runs the whole installation visit,
with the activation check waiting (htmx polling) for the watch's first message over a real socket."""

from __future__ import annotations

import os

import pytest

from pingantong.accounts.choices import Role
from pingantong.clients.testing import make_client
from pingantong.demo.simulator.frames import watch_lk
from pingantong.gateway.tests.gwtools import Terminal, running_gateway
from pingantong.inventory.catalogue import ensure_catalogue
from pingantong.inventory.choices import TEACHING_CHECKLIST
from pingantong.inventory.models import Installation

from .helpers import model, new_item

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOME = (26.2634, 117.6389)


def _shot(page, name):
    if path := os.environ.get("PINGANTONG_SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(path, name), full_page=True)


def test_field_worker_installs_a_watch_on_a_phone(
    phone_page, live_server, user_factory, password, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    ensure_catalogue()
    page = phone_page
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": HOME[0] + 0.0002, "longitude": HOME[1]})
    worker = user_factory(Role.FIELD_WORKER, "350404001000")
    elder = make_client(name="王秀英", address="江滨社区2号", home_lat=HOME[0], home_lon=HOME[1])
    item = new_item(model("watch"), region="350404001000", identity="4700200001")

    page.goto(f"{live_server.url}/login/?next=/inventory/install/")
    page.fill("#id_username", worker.username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/inventory/install/")
    page.get_by_test_id("client-search").fill("王秀英")
    page.get_by_test_id("client-search").press("Enter")
    page.get_by_test_id(f"start-{elder.pk}").click()
    page.wait_for_url("**/inventory/install/*/")
    installation = Installation.objects.get(client=elder)

    page.get_by_test_id("checkin-button").click()
    page.get_by_test_id("checked-in").wait_for()
    page.fill("#id_signal_dbm", "-88")
    page.select_option("#id_mobility", "independent")
    page.check("#id_lives_alone")
    page.get_by_test_id("home-test-save").click()
    page.get_by_test_id("recommended").wait_for()
    assert "watch" in Installation.objects.get(pk=installation.pk).recommended_types

    page.select_option("#id_item", str(item.pk))
    page.get_by_test_id("bind-button").click()
    line = installation.items.get()
    page.get_by_test_id(f"waiting-{line.pk}").wait_for()
    with running_gateway(ports={"watch": 0}) as (_gateway, ports, _lt):
        watch = Terminal(ports["watch"])
        watch.send(watch_lk("4700200001", steps=5))
        watch.read_until(b"]")
        page.get_by_test_id(f"activated-{line.pk}").wait_for(timeout=15000)  # the htmx poll saw it
        watch.close()
    _shot(page, "inventory-install-activated.png")

    page.get_by_test_id(f"sim-{line.pk}").click()
    page.wait_for_load_state()
    for key, _label in TEACHING_CHECKLIST:
        page.check(f"input[name=taught][value={key}]")
    page.check("input[name=confirmed_by][value=client]")
    page.fill("#id_confirmed_name", "王秀英")
    page.get_by_test_id("complete-button").click()
    page.get_by_test_id("installation-done").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    _shot(page, "inventory-install-done.png")
    installation.refresh_from_db()
    item.refresh_from_db()
    assert installation.status == "done" and installation.distance_m < 50
    assert item.state == "installed"
