"""Fixtures shared by every app's tests."""

from __future__ import annotations

import os

import pytest

from pingantong.testing.users import PASSWORD, make_user


@pytest.fixture
def user_factory(db):
    return make_user


@pytest.fixture(autouse=True)
def _regions_survive_transactional_tests(request):
    """Give every transactional test the 三元区 regions that the migration loads.

    A transactional test (live_server, browser, gateway listeners) ends by flushing every table,
    so the rows the regions migration loaded are gone for the next one. Reload them (an idempotent
    upsert, a few hundred rows) when a transactional test starts with an empty region table.
    """
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))
    if not transactional and "transactional_db" not in request.fixturenames:
        return
    request.getfixturevalue("transactional_db")
    from pingantong.regions.loading import SANYUAN, load_regions, shipped_rows
    from pingantong.regions.models import Region

    if not Region.objects.exists():
        load_regions(shipped_rows(), under=SANYUAN)


@pytest.fixture
def sibling_towns(db) -> tuple[str, str]:
    """Two sibling towns of 三元区 (列东街道, 列西街道), guaranteed to exist: for region-scope tests."""
    from pingantong.testing.regions import TOWN_A, TOWN_B, ensure_regions

    ensure_regions()
    return TOWN_A, TOWN_B


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def admin_user(db):
    from pingantong.accounts.models import User

    return User.objects.create_superuser(username="root", password=PASSWORD)


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture(scope="module")
def browser():
    """A real headless Chromium (Debian's), driven by Playwright; never downloads a browser.

    Module-scoped, not session-scoped: Playwright's sync API keeps an asyncio loop running in the
    main thread while it is open, and every later test calling `asyncio.run()` would fail with
    "cannot be called from a running event loop". Closing it after each module ends the loop.
    """
    from pingantong.testing.services import require_condition

    executable = os.environ.get("PINGANTONG_CHROMIUM", "/usr/bin/chromium")
    require_condition(os.path.exists(executable), f"Chromium not found at {executable}")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=executable,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser):
    """A phone-sized viewport, for the field workers' pages."""
    context = browser.new_context(
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def pytest_sessionfinish(session, exitstatus):
    """Django removes the test database file; remove the gateway writers' lock file beside it too
    (`gateway/ingest/writelock.py`), and any urgent journal a failed test left (`journal.py`), or
    every run leaves them in var/."""
    import contextlib
    from pathlib import Path

    with contextlib.suppress(Exception):  # housekeeping must never fail a run
        from django.conf import settings

        name = settings.DATABASES["default"].get("TEST", {}).get("NAME")
        if name:
            Path(f"{name}.gateway-lock").unlink(missing_ok=True)
            for journal in Path(name).parent.glob(f"{Path(name).name}.urgent-*"):  # decision 0130
                journal.unlink(missing_ok=True)
