"""In a real Chromium: a person "presses the key" on the development channel's messages page (what
the alarm centre's end-to-end test relies on), and a supervisor approves a broadcast and watches
its progress reach the end."""

import os

import pytest

from pingantong.accounts.choices import Role
from pingantong.notifications import actions, broadcasts
from pingantong.notifications.choices import ChannelKind, Purpose

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def seeded_templates(db):
    """A transactional test before this one may have flushed the seeded rows."""
    from pingantong.notifications.seed import ensure_seed_templates

    ensure_seed_templates()


def _login(page, live_server, user, password, next_url):
    page.goto(f"{live_server.url}/login/?next={next_url}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{next_url}")


def _shot(page, name):
    if path := os.environ.get("PINGANTONG_SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(path, name), full_page=True)


def test_simulated_keypress_on_the_messages_page_acknowledges(page, live_server, user_factory, password):
    message = actions.send_notification(
        recipient="13900000001",
        template="sos_contact",
        channel=ChannelKind.SMS,
        purpose=Purpose.SOS,
        params={"name": "张三", "time": "10:05", "link": "https://x.invalid/s/1"},
        idempotency_key="e2e-1",
        priority="emergency",
        related="alarm:1",
        region_id="350404001001",
    )
    user = user_factory(Role.AGENT)
    _login(page, live_server, user, password, "/notifications/")
    row = page.locator(f'tr[data-message-id="{message.pk}"]')
    assert "已送达" in row.get_by_test_id("message-status").inner_text()
    row.get_by_test_id("simulate-ack").click()
    page.wait_for_load_state()
    row = page.locator(f'tr[data-message-id="{message.pk}"]')
    assert "已确认" in row.get_by_test_id("message-status").inner_text()
    _shot(page, "notifications-messages.png")
    message.refresh_from_db()
    assert message.acknowledged_at is not None and message.ack_result == "1"


def test_supervisor_approves_a_fraud_alert_and_sees_the_report(page, live_server, user_factory, password):
    from pingantong.clients.testing import make_client

    for _ in range(3):
        make_client(region="350404001001")
    draft = broadcasts.create_broadcast(
        kind="fraud",
        title="防范冒充医保诈骗",
        region="350404000000",
        params={"summary": "冒充医保局退费的诈骗电话"},
    )
    user = user_factory(Role.SUPERVISOR)
    _login(page, live_server, user, password, f"/notifications/broadcasts/{draft.pk}/")
    assert "冒充医保局退费的诈骗电话" in page.get_by_test_id("broadcast-preview").inner_text()
    page.get_by_test_id("approve").click()
    page.wait_for_load_state()
    progress = page.get_by_test_id("broadcast-progress")
    progress.locator(".progress-bar", has_text="3/3").wait_for()
    _shot(page, "notifications-broadcast.png")
