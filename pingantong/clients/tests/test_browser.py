"""P1 in a real Chromium: a village user files an application (the ID number is checked as typed), a
township user approves it, and an agent finds the new client in the list."""

import os

import pytest

from pingantong.accounts.choices import Role
from pingantong.clients.idnumber import make_test_id_number

from .conftest import DISTRICT, TOWN, VILLAGE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, live_server, user, password, next_url):
    page.goto(f"{live_server.url}/login/?next={next_url}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{next_url}")


def test_village_files_township_approves_agent_sees_the_client(
    page, browser, live_server, user_factory, password
):
    village = user_factory(Role.VILLAGE, VILLAGE)
    township = user_factory(Role.TOWNSHIP, TOWN)
    agent = user_factory(Role.AGENT, DISTRICT)
    number = make_test_id_number(sequence=777, female=True)

    _login(page, live_server, village, password, "/clients/applications/new/")
    page.fill("#id_name", "黄月娥")
    page.fill("#id_id_number", number[:-1] + ("0" if number[-1] != "0" else "1"))
    page.locator("#id_id_number").dispatch_event("change")
    page.wait_for_selector("[data-testid=id-check].text-danger")  # the typo is caught before submitting
    page.fill("#id_id_number", number)
    page.locator("#id_id_number").dispatch_event("change")
    page.wait_for_selector("[data-testid=id-check].text-success")
    page.select_option("#id_region", VILLAGE)
    page.fill("#id_household_region_code", VILLAGE)
    page.fill("#id_address", "列东街道江滨路3号")
    page.check("input[name=categories][value=living_alone]")
    page.select_option("#id_requested_scheme", "basic_package")
    page.click("[data-testid=application-form] button[type=submit]")
    page.wait_for_url("**/clients/applications/*/")
    application_url = page.url

    township_page = browser.new_context(locale="zh-CN").new_page()
    _login(township_page, live_server, township, password, "/clients/applications/")
    township_page.get_by_role("link", name="黄月娥").first.click()
    township_page.wait_for_url(application_url)
    township_page.click("button[value=approve]")
    township_page.wait_for_selector("[data-testid=application-status]")
    assert township_page.locator("[data-testid=steps] li").count() == 2  # filed, approved

    agent_page = browser.new_context(locale="zh-CN").new_page()
    _login(agent_page, live_server, agent, password, "/clients/")
    agent_page.fill("input[name=q]", "黄月娥")
    agent_page.keyboard.press("Enter")
    agent_page.wait_for_url("**q=*")
    agent_page.get_by_role("link", name="黄月娥").click()
    agent_page.wait_for_selector("[data-testid=client-name]")
    assert "黄月娥" in agent_page.get_by_test_id("client-name").inner_text()
    if path := os.environ.get("PINGANTONG_SCREENSHOT_DIR"):
        agent_page.screenshot(path=os.path.join(path, "client-detail.png"), full_page=True)
