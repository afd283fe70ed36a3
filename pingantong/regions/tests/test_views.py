"""The tree browser page and the read-only API."""

import pytest
from django.urls import reverse

from pingantong.accounts.choices import Role
from pingantong.core import navigation

pytestmark = pytest.mark.django_db


def test_the_page_needs_a_login(client):
    response = client.get("/regions/")
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_an_administrator_sees_sanyuans_towns_and_villages(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/regions/", follow=True)
    assert response.redirect_chain[-1][0] == "/regions/350404000000/"
    html = response.content.decode()
    for town in ("列东街道", "城关街道", "莘口镇", "中村乡", "福建三元经济开发区"):
        assert town in html
    for village in ("江滨社区", "中央溪村", "白水畲族村"):
        assert village in html
    assert response.context["grandchild_count"] == 133
    assert len(response.context["children"]) == 13


def test_a_township_user_opens_on_their_town(client, user_factory):
    user = user_factory(Role.TOWNSHIP, region="350404102000")
    client.force_login(user)
    response = client.get("/regions/", follow=True)
    assert response.redirect_chain[-1][0] == "/regions/350404102000/"
    assert "中央溪村委会" in response.content.decode()


def test_a_village_user_opens_on_their_town(client, user_factory):
    client.force_login(user_factory(Role.VILLAGE, region="350404102214"))
    response = client.get("/regions/")
    assert response["Location"] == "/regions/350404102000/"


def test_the_detail_page_counts_in_a_bounded_number_of_queries(
    client, admin_user, django_assert_max_num_queries
):
    client.force_login(admin_user)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("regions:detail", args=["350404000000"]))
    assert response.status_code == 200


def test_a_village_page_and_an_unknown_code(client, admin_user):
    client.force_login(admin_user)
    assert client.get("/regions/350404102214/").status_code == 200
    assert client.get("/regions/350499000000/").status_code == 404
    assert client.get("/regions/abc/").status_code == 404


def test_search(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/regions/", {"q": "白水"})
    assert response.status_code == 200
    assert [r.code for r in response.context["results"]] == ["350404200218"]


def test_the_page_is_in_chinese_for_a_chinese_browser(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/regions/350404000000/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "区划代码" in response.content.decode()


def test_navigation_entry_for_every_role():
    item = next(i for i in navigation._ITEMS if i.url_name == "regions:tree")
    assert item.roles == frozenset(Role)
    assert item.order == 800


# --- API -----------------------------------------------------------------------------------------


def test_api_needs_a_login(api_client):
    assert api_client.get("/api/v1/regions/").status_code in (401, 403)


def test_api_lists_and_filters(api_client, user_factory):
    api_client.force_authenticate(user_factory(Role.AGENT))
    response = api_client.get("/api/v1/regions/", {"parent": "350404000000"})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 13
    first = body["results"][0]
    assert first == {
        "code": "350404001000",
        "name": "列东街道",
        "short_name": "列东街道",
        "level": 4,
        "level_display": "乡镇街道",  # the platform speaks Chinese first
        "parent": "350404000000",
        "prefix": "350404001",
        "urban_rural_code": "",
    }
    english = api_client.get("/api/v1/regions/", {"parent": "350404000000"}, HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["results"][0]["level_display"] == "Town/Street"
    assert api_client.get("/api/v1/regions/", {"level": 5, "under": "350404200000"}).json()["count"] == 19
    assert api_client.get("/api/v1/regions/", {"q": "中央溪"}).json()["results"][0]["code"] == "350404102214"


def test_api_detail_and_children(api_client, user_factory):
    api_client.force_authenticate(user_factory(Role.AGENT))
    detail = api_client.get("/api/v1/regions/350404000000/").json()
    assert (detail["name"], detail["parent"], detail["level"]) == ("三元区", "350400000000", 3)
    children = api_client.get("/api/v1/regions/350404102000/children/").json()
    assert len(children) == 16
    assert children[-1]["short_name"] == "中央溪村"
    assert api_client.get("/api/v1/regions/350499000000/").status_code == 404


@pytest.mark.parametrize("params", [{"level": "9"}, {"parent": "3504"}, {"under": "x"}])
def test_api_rejects_bad_filters(api_client, user_factory, params):
    api_client.force_authenticate(user_factory(Role.AGENT))
    assert api_client.get("/api/v1/regions/", params).status_code == 400


def test_api_list_query_count(api_client, user_factory, django_assert_max_num_queries):
    api_client.force_authenticate(user_factory(Role.AGENT))
    with django_assert_max_num_queries(6):
        assert api_client.get("/api/v1/regions/", {"page_size": 200}).status_code == 200


def test_an_administrator_still_opens_on_sanyuan_when_more_districts_are_loaded(client, admin_user):
    from pingantong.regions.loading import load_regions, shipped_rows

    load_regions(shipped_rows(), under="350102")  # 福州市鼓楼区 sorts before 三元区
    client.force_login(admin_user)
    assert client.get("/regions/")["Location"] == "/regions/350404000000/"
    districts = client.get("/regions/350404000000/").context["districts"]
    assert [d.code for d in districts] == ["350102000000", "350404000000"]


def test_an_empty_database_shows_how_to_load_regions(client, admin_user):
    from pingantong.regions.models import Region

    client.force_login(admin_user)
    Region.objects.filter(level=5).delete()
    Region.objects.filter(level=4).delete()
    response = client.get("/regions/")
    assert response.status_code == 200
    assert "loadregions" in response.content.decode()
