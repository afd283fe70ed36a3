"""A real browser (Debian's Chromium through Playwright) logs in through the real login page.

pytest-django's live_server serves static files through Django's StaticFilesHandler (the
staticfiles finders), so the page gets the vendored Bootstrap exactly as `pingantong run` serves it
through WhiteNoise.
"""

from __future__ import annotations

import pytest

from pingantong.testing.users import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def administrator():
    from pingantong.accounts.models import User

    return User.objects.create_superuser(username="admin", password=PASSWORD, display_name="系统管理员")


def _log_in(page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/")
    page.wait_for_url("**/login/**")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


def test_administrator_logs_in_and_sees_the_home_page(live_server, page, administrator):
    _log_in(page, live_server.url, "admin", PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("[data-testid=current-user]").inner_text() == "系统管理员"
    assert "欢迎" in page.locator("h1").inner_text()
    # The stylesheet from the npm registry is served: Bootstrap colours the navigation bar.
    background = page.evaluate("getComputedStyle(document.querySelector('nav')).backgroundColor")
    assert background not in ("", "rgba(0, 0, 0, 0)", "transparent")
    assert page.request.get(f"{live_server.url}/static/vendor/htmx.min.js").ok


def test_wrong_password_shows_the_error_and_stays_logged_out(live_server, page, administrator):
    _log_in(page, live_server.url, "admin", "not-the-password")
    error = page.locator(".alert-danger")
    error.wait_for()
    assert "用户名或密码错误" in error.inner_text()
    assert "/login/" in page.url
    assert page.locator("[data-testid=current-user]").count() == 0


def test_regions_are_back_for_every_transactional_test():
    """The previous transactional test flushed the tables; conftest reloads 三元区 (as migrated)."""
    from pingantong.regions.models import Region

    assert Region.objects.filter(parent_id="350404000000", level=4).count() >= 10
