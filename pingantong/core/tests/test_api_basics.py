"""The API shell: token login, token use, OpenAPI schema and docs page, error shape."""

from __future__ import annotations

import pytest

from pingantong.accounts.choices import Role
from pingantong.testing.regions import TOWN_A, ensure_regions
from pingantong.testing.users import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def test_token_login_then_token_authorises_requests(api_client):
    ensure_regions()
    user = make_user(Role.AGENT, TOWN_A, username="agent7")
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "agent7", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert api_client.get("/api/v1/users/me/").status_code in (401, 403)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = api_client.get("/api/v1/users/me/")
    assert me.status_code == 200 and me.json()["username"] == user.username


def test_token_login_with_a_wrong_password_gives_400_and_no_token(api_client):
    make_user(username="agent8")
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "agent8", "password": "wrong"}, format="json"
    )
    assert response.status_code == 400
    assert "token" not in response.json()


def test_a_forged_token_is_refused(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    assert api_client.get("/api/v1/users/me/").status_code == 401


def test_user_without_a_role_is_refused_by_restricted_endpoints(api_client):
    api_client.force_authenticate(make_user())
    assert api_client.get("/api/v1/shifts/").status_code == 403


def test_schema_is_openapi_and_lists_the_foundation_endpoints(client):
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/users/me/", "/api/v1/shifts/", "/api/v1/auth/token/"} <= set(schema["paths"])


def test_docs_page_is_served_with_local_assets(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    assert "/api/v1/schema/" in response.content.decode()


def test_docs_page_needs_no_network(client):
    html = client.get("/api/v1/docs/").content.decode()
    assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html


def _list_viewsets(patterns, found=None) -> dict:
    """Every viewset class the URL configuration routes a `list` to."""
    found = {} if found is None else found
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            _list_viewsets(pattern.url_patterns, found)
            continue
        cls = getattr(pattern.callback, "cls", None)
        if cls is not None and "list" in (getattr(pattern.callback, "actions", None) or {}).values():
            found[f"{cls.__module__}.{cls.__name__}"] = cls
    return found


def test_every_api_list_is_ordered_so_its_pages_are_stable():
    """A page of an unordered list may repeat or skip rows from one page to the next (DRF warns
    `UnorderedObjectListWarning`): a bureau official paging through terminations, or an agent
    through activities, would miss some. Meta.ordering is dropped in GROUP BY queries (an
    annotated count), so each viewset's queryset is ordered itself."""
    from django.urls import get_resolver

    viewsets = _list_viewsets(get_resolver().url_patterns)
    assert len(viewsets) > 30, sorted(viewsets)  # the walk finds the API
    unordered = [
        name
        for name, cls in viewsets.items()
        if getattr(cls, "queryset", None) is not None and not cls.queryset.ordered
    ]
    assert unordered == []
