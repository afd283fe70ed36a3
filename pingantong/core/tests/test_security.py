"""Security basics: login lockout, session timeout, production settings (check --deploy clean,
secrets only from the environment)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.urls import reverse

from pingantong.testing.users import PASSWORD, make_user

ROOT = settings.PROJECT_DIR


@pytest.mark.django_db
def test_five_failed_logins_lock_the_account_through_the_real_login_view(client):
    make_user(username="wang")
    url = reverse("login")
    for _ in range(5):
        response = client.post(url, {"username": "wang", "password": "wrong-password"})
    locked = client.post(url, {"username": "wang", "password": PASSWORD})
    assert locked.status_code in (403, 429)
    assert "locked" in locked.content.decode() or "锁定" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    assert response.status_code in (200, 403, 429)


@pytest.mark.django_db
def test_four_failures_then_the_right_password_still_logs_in(client):
    make_user(username="li")
    url = reverse("login")
    for _ in range(4):
        assert client.post(url, {"username": "li", "password": "nope"}).status_code == 200
    assert client.post(url, {"username": "li", "password": PASSWORD}).status_code == 302
    assert "_auth_user_id" in client.session


@pytest.mark.django_db
def test_session_ends_after_two_idle_hours_and_at_browser_close(client):
    client.force_login(make_user())
    client.get("/")
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE <= 2 * 3600
    assert settings.SESSION_SAVE_EVERY_REQUEST  # idle time, not time since login
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    assert client.cookies["sessionid"]["httponly"]


def _production_env(**overrides: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PINGANTONG_", "DATABASE_URL", "REDIS_URL"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="pingantong.settings.production",
        DJANGO_SECRET_KEY="k" * 20 + "-Zq8pLx3vN0wRt5yUe7iOa1sDf4gHj6kL9zXc2vBn",
        PINGANTONG_FIELD_KEY="field-key-for-the-test",
        DJANGO_ALLOWED_HOSTS="pingantong.example.cn",
        PINGANTONG_VAR_DIR=str(ROOT / "var" / "test-production"),
    )
    env.update(overrides)
    return {k: v for k, v in env.items() if v != ""}


def _run(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


CHECK_DEPLOY = (
    "import django; django.setup(); from django.core.management import call_command; "
    "call_command('check', deploy=True, fail_level='WARNING')"
)


def _issues(output: str) -> list[str]:
    """The issue lines of `check` output, e.g. "?: (security.W004) You have not set ..."."""
    return [line.strip() for line in output.splitlines() if re.match(r"^\s*\S*: \(\w[\w.]*\.[EW]\d+\)", line)]


@pytest.fixture(scope="module")
def check_deploy() -> subprocess.CompletedProcess:
    """One `check --deploy --fail-level WARNING` run on production settings, shared by the tests."""
    return _run(CHECK_DEPLOY, _production_env())


def test_check_deploy_has_no_security_or_django_issues_on_production_settings(check_deploy):
    result = check_deploy
    output = result.stdout + result.stderr
    assert "Traceback" not in output or "SystemCheckError" in output, output[-3000:]
    others = [line for line in _issues(output) if "(drf_spectacular." not in line]
    assert others == [], "\n".join(others)


def test_check_deploy_is_clean_at_warning_level_on_production_settings(check_deploy):
    """Including drf-spectacular's schema check (enum names: ENUM_NAME_OVERRIDES in base settings)."""
    result = check_deploy
    output = result.stdout + result.stderr
    assert result.returncode == 0, "\n".join(_issues(output)) or output[-3000:]
    assert _issues(output) == []


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "PINGANTONG_FIELD_KEY", "DJANGO_ALLOWED_HOSTS"])
def test_production_settings_refuse_to_start_without_secrets_from_the_environment(missing):
    result = _run("import pingantong.settings.production", _production_env(**{missing: ""}))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and missing in result.stderr


def test_production_cookies_and_headers_are_secure():
    code = (
        "import pingantong.settings.production as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS >= 31536000, "
        "s.SECURE_SSL_REDIRECT, s.DEBUG, s.X_FRAME_OPTIONS)"
    )
    result = _run(code, _production_env())
    assert result.stdout.split() == ["True", "True", "True", "True", "False", "DENY"], result.stderr[-2000:]


def test_issue_parser_sees_security_warnings():
    sample = "System check identified some issues:\n\nWARNINGS:\n?: (security.W004) You have not set HSTS.\n"
    assert _issues(sample) == ["?: (security.W004) You have not set HSTS."]
