"""The web shell: navigation by role, home page, health check, login redirect."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pingantong.accounts.choices import Role
from pingantong.testing.users import make_user

pytestmark = pytest.mark.django_db


def _nav(client) -> set[str]:
    return {item["url_name"] for item in client.get("/").context["nav_items"]}


def test_navigation_follows_roles(client, sibling_towns):
    town_a, _town_b = sibling_towns
    client.force_login(make_user(Role.AGENT, town_a))
    agent_nav = _nav(client)
    assert {"home", "accounts:shift-list"} <= agent_nav
    assert "audit-log" not in agent_nav and "accounts:staff-roles" not in agent_nav

    client.force_login(make_user(Role.AUDITOR, town_a))
    assert {"audit-log", "accounts:staff-roles"} <= _nav(client)


def test_superuser_sees_every_entry_and_the_admin_link(client, admin_user):
    client.force_login(admin_user)
    html = client.get("/").content.decode()
    assert {"audit-log", "accounts:staff-roles", "accounts:shift-list"} <= _nav(client)
    assert reverse("admin:index") in html


def test_home_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_home_lists_my_roles_with_region_names(client, sibling_towns):
    client.force_login(make_user(Role.TOWNSHIP, sibling_towns[0]))
    assert "列东街道" in client.get("/").content.decode()


def test_healthz_reports_the_database(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200 and response.json() == {"status": "ok", "database": True}
