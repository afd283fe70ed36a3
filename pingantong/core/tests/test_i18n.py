"""Chinese first, English switchable (the .mo files are compiled by the bootstrap)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pingantong.testing.regions import TOWN_A, ensure_regions
from pingantong.testing.users import make_user

pytestmark = pytest.mark.django_db


def test_login_page_is_chinese_by_default(client):
    html = client.get(reverse("login")).content.decode()
    assert '<html lang="zh-hans">' in html
    assert "登录平安通" in html and "用户名" in html


def test_switching_to_english_renders_the_login_page_in_english(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("login")})
    assert response.status_code == 302
    html = client.get(reverse("login")).content.decode()
    assert '<html lang="en">' in html
    assert "Log in to PingAnTong" in html and "登录平安通" not in html


def test_browser_asking_for_english_gets_english_and_chinese_stays_default(client):
    assert "Log in to PingAnTong" in client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "登录平安通" in client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()


def test_role_names_use_the_plans_words(client):
    from pingantong.accounts.choices import Role

    ensure_regions()
    client.force_login(make_user(Role.AGENT, TOWN_A))
    html = client.get(reverse("accounts:me")).content.decode()
    assert "坐席" in html and "列东街道" in html
