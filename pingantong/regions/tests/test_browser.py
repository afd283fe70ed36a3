"""The tree browser in a real Chromium: an administrator finds 三元区's towns and opens one."""

import os

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_administrator_expands_a_town_to_its_villages(page, live_server, admin_user, password):
    page.goto(f"{live_server.url}/login/?next=/regions/")
    page.fill("#id_username", admin_user.username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/regions/350404000000/")
    assert page.get_by_test_id("region-name").inner_text() == "三元区"
    town = page.locator("#r350404102000")
    village = town.get_by_role("link", name="中央溪村", exact=True)
    assert not village.is_visible()
    town.locator("summary").click()
    assert village.is_visible()
    if path := os.environ.get("PINGANTONG_SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(path, "regions-tree.png"), full_page=True)
    village.click()
    page.wait_for_url("**/regions/350404102214/")
    assert "中央溪村委会" in page.get_by_test_id("region-name").inner_text()
