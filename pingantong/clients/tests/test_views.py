"""Screens and API: search by name, phone, full ID number and village; filters; masking; audit of
unmasked reads; query counts on the list endpoint; the public service page (X1)."""

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from pingantong.accounts.choices import Role
from pingantong.clients.testing import make_client, make_contact

from .conftest import VILLAGE

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return {
        "wang": make_client(
            name="王秀英", phone="13905981111", categories=["living_alone"], risk_tier="high"
        ),
        "li": make_client(
            name="李建华", phone="13905982222", categories=["severe_disability"], risk_tier="general"
        ),
        "far": make_client(name="张德明", region="350404002001", phone="13905983333"),
    }


def _names(response):
    return sorted(row["name"] for row in response.json()["results"])


def test_api_search_by_name_phone_full_id_and_village(api_client, agent, people):
    api_client.force_authenticate(agent)
    url = "/api/v1/clients/"
    assert _names(api_client.get(url, {"q": "秀英"})) == ["王秀英"]
    assert _names(api_client.get(url, {"q": "2222"})) == ["李建华"]
    assert _names(api_client.get(url, {"q": people["far"].id_number})) == ["张德明"]
    assert _names(api_client.get(url, {"q": people["far"].id_number[:12]})) == []  # partial IDs do not match
    village = people["wang"].region.display_name
    assert "王秀英" in _names(api_client.get(url, {"q": village[:3]}))


def test_api_filters_category_risk_status_region(api_client, agent, people):
    api_client.force_authenticate(agent)
    url = "/api/v1/clients/"
    assert _names(api_client.get(url, {"category": "severe_disability"})) == ["李建华"]
    assert _names(api_client.get(url, {"risk_tier": "high"})) == ["王秀英"]
    assert _names(api_client.get(url, {"region": "350404002000"})) == ["张德明"]
    assert _names(api_client.get(url, {"status": "terminated"})) == []


def test_api_list_masks_id_and_phone_and_is_region_scoped(api_client, user_factory, people):
    api_client.force_authenticate(user_factory(Role.VILLAGE, VILLAGE))
    rows = api_client.get("/api/v1/clients/").json()["results"]
    assert sorted(r["name"] for r in rows) == ["李建华", "王秀英"]
    assert all("****" in r["phone"] and "********" in r["id_number_masked"] for r in rows)
    assert "id_number" not in rows[0]


def test_api_list_query_count_does_not_grow_with_rows(api_client, agent, django_assert_max_num_queries):
    for _ in range(30):
        make_client()
    api_client.force_authenticate(agent)
    with django_assert_max_num_queries(4):
        response = api_client.get("/api/v1/clients/", {"q": "测试"})
    assert len(response.json()["results"]) == 30


def test_api_pagination_without_count(api_client, agent):
    for _ in range(7):
        make_client()
    api_client.force_authenticate(agent)
    first = api_client.get("/api/v1/clients/", {"page_size": 5}).json()
    assert len(first["results"]) == 5 and first["next"] and first["previous"] is None
    second = api_client.get(first["next"]).json()
    assert len(second["results"]) == 2 and second["next"] is None


def test_reveal_is_for_permitted_roles_and_logged(api_client, agent, user_factory, people):
    wang = people["wang"]
    api_client.force_authenticate(agent)
    assert api_client.get(f"/api/v1/clients/{wang.pk}/reveal/").status_code in (403, 404)
    township = user_factory(Role.TOWNSHIP, "350404001000")
    api_client.force_authenticate(township)
    response = api_client.get(f"/api/v1/clients/{wang.pk}/reveal/", {"purpose": "approval"})
    assert response.json() == {"id_number": wang.id_number}
    entry = LogEntry.objects.get(action=LogEntry.Action.ACCESS, actor=township)
    assert entry.additional_data["fields"] == ["id_number"] and entry.additional_data["purpose"] == "approval"


def test_api_create_refuses_duplicate_with_clear_message(api_client, agency_admin, people):
    api_client.force_authenticate(agency_admin)
    response = api_client.post(
        "/api/v1/clients/",
        {"name": "又一个", "id_number": people["li"].id_number, "region": VILLAGE},
        format="json",
    )
    assert response.status_code == 400
    assert "already registered" in response.json()["id_number"][0]


def test_consent_api_appends_and_withdrawal_wins(api_client, agent, people):
    from pingantong.clients.selectors import has_consent

    api_client.force_authenticate(agent)
    wang = people["wang"]
    for granted in (True, False):
        response = api_client.post(
            "/api/v1/consents/",
            {"client": wang.pk, "purpose": "health_data", "granted": granted, "method": "written"},
            format="json",
        )
        assert response.status_code == 201, response.content
    assert not has_consent(wang, "health_data")
    assert api_client.delete(f"/api/v1/consents/{wang.consents.first().pk}/").status_code == 405


def test_application_chain_over_the_api(api_client, village_user, township_user, district_user):
    from pingantong.clients.idnumber import make_test_id_number

    api_client.force_authenticate(village_user)
    response = api_client.post(
        "/api/v1/applications/",
        {
            "id_number": make_test_id_number(sequence=601),
            "name": "吴老伯",
            "region": VILLAGE,
            "household_region_code": VILLAGE,
            "categories": ["empty_nest"],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert api_client.post(f"/api/v1/applications/{pk}/approve/").status_code == 403
    api_client.force_authenticate(township_user)
    assert api_client.post(f"/api/v1/applications/{pk}/approve/").json()["status"] == "approved"
    api_client.force_authenticate(district_user)
    body = api_client.post(f"/api/v1/applications/{pk}/record/").json()
    assert body["status"] == "recorded" and [s["action"] for s in body["steps"]] == [
        "file",
        "approve",
        "record",
    ]


def test_detail_page_shows_everything_and_logs_the_read(client, agent, people):
    wang = people["wang"]
    make_contact(wang, name="王小明", is_street_designated=True)
    client.force_login(agent)
    response = client.get(reverse("clients:detail", args=[wang.pk]))
    page = response.content.decode()
    assert "王秀英" in page and "王小明" in page and "Location queries (S07)" in page
    assert wang.phone in page  # agents call the client: phone shown in full …
    assert wang.id_number not in page  # … but not the ID number
    entry = LogEntry.objects.get(action=LogEntry.Action.ACCESS, actor=agent)
    assert set(entry.additional_data["fields"]) == {"address", "health", "phone"}


def test_list_page_masks_and_searches(client, agent, people):
    client.force_login(agent)
    page = client.get(reverse("clients:list"), {"q": "王秀英"}).content.decode()
    assert "王秀英" in page and "李建华" not in page
    assert people["wang"].phone not in page and people["wang"].id_number not in page
    assert people["wang"].id_number_masked in page


def test_inline_id_check_explains_problems(client, agent, people):
    client.force_login(agent)
    url = reverse("clients:validate-id")
    assert "already registered" in client.post(url, {"id_number": people["li"].id_number}).content.decode()
    ok = client.post(
        f"{url}?exclude={people['li'].pk}", {"id_number": people["li"].id_number}
    ).content.decode()
    assert "text-success" in ok


def test_public_service_page_needs_no_login(client):
    response = client.get(reverse("clients:service-info"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "S01" in page and "服务信息传递" in page and "S22" in page and "30" in page
    assert 'data-testid="extended-items"' in page


def test_frequency_request_api_records_then_confirms(api_client, agent, people):
    api_client.force_authenticate(agent)
    wang = people["wang"]
    response = api_client.post(
        "/api/v1/frequency-requests/",
        {"client": wang.pk, "kind": "call", "interval_days": 3, "reason": "想多聊聊"},
        format="json",
    )
    assert response.status_code == 201, response.content
    wang.refresh_from_db()
    assert wang.call_interval_days is None
    pk = response.json()["id"]
    assert api_client.post(f"/api/v1/frequency-requests/{pk}/confirm/").json()["status"] == "confirmed"
    wang.refresh_from_db()
    assert wang.call_interval_days == 3


def test_web_list_query_count_does_not_grow_with_rows(client, agent, django_assert_max_num_queries):
    for _ in range(40):
        make_client()
    client.force_login(agent)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("clients:list"))
    assert response.content.decode().count("/clients/") >= 40


def test_agreements_api_is_region_scoped(api_client, user_factory, agency_admin):
    from pingantong.clients import actions

    actions.draft_agreement(client=make_client(region="350404002001"), by=agency_admin)
    api_client.force_authenticate(user_factory(Role.VILLAGE, VILLAGE))
    assert api_client.get("/api/v1/agreements/").json()["results"] == []
    api_client.force_authenticate(agency_admin)
    rows = api_client.get("/api/v1/agreements/").json()["results"]
    assert len(rows) == 1 and "S01" in rows[0]["items"]


def test_contact_api_masks_phones_in_lists_and_logs_full_reads(api_client, agent, people):
    contact = make_contact(people["wang"], phone="13812345678")
    api_client.force_authenticate(agent)
    rows = api_client.get("/api/v1/contacts/", {"client": people["wang"].pk}).json()["results"]
    assert rows[0]["phone"] == "138****5678"
    assert api_client.get(f"/api/v1/contacts/{contact.pk}/").json()["phone"] == "13812345678"
    entry = LogEntry.objects.get(action=LogEntry.Action.ACCESS, actor=agent)
    assert entry.additional_data["fields"] == ["phone"]


def test_edit_form_saves_a_map_pin_as_the_home_location(client, agent, people):
    wang = people["wang"]
    client.force_login(agent)
    page = client.get(reverse("clients:edit", args=[wang.pk])).content.decode()
    assert 'id="home-map"' in page and 'name="home_location_source"' in page
    data = {
        "name": wang.name,
        "region": wang.region_id,
        "household_region_code": wang.household_region_code,
        "living_situation": "alone",
        "risk_tier": "high",
        "ability_grade": "unassessed",
        "paying_scheme": "basic_package",
        "phone": wang.phone,
        "categories": ["living_alone"],
        "home_lat": "26.250001",
        "home_lon": "117.600002",
        "home_location_source": "map_pin",
    }
    response = client.post(reverse("clients:edit", args=[wang.pk]), data)
    assert response.status_code == 302, response.context["form"].errors
    wang.refresh_from_db()
    assert (wang.home_lat, wang.home_lon, wang.home_location_source) == (26.250001, 117.600002, "map_pin")


def test_api_patch_goes_through_the_action(api_client, agency_admin, people):
    api_client.force_authenticate(agency_admin)
    wang = people["wang"]
    response = api_client.patch(f"/api/v1/clients/{wang.pk}/", {"risk_tier": "key"}, format="json")
    assert response.status_code == 200 and response.json()["risk_tier"] == "key"
    response = api_client.patch(
        f"/api/v1/clients/{wang.pk}/", {"id_number": people["li"].id_number}, format="json"
    )
    assert response.status_code == 400 and "already registered" in response.json()["id_number"][0]
    wang.refresh_from_db()
    assert wang.risk_tier == "key" and wang.id_number != people["li"].id_number


def test_agency_registers_a_client_through_the_form(client, agency_admin):
    from pingantong.clients.idnumber import make_test_id_number
    from pingantong.clients.models import Client

    client.force_login(agency_admin)
    data = {
        "name": "郑阿公",
        "id_number": make_test_id_number(sequence=901),
        "region": VILLAGE,
        "household_region_code": VILLAGE,
        "living_situation": "alone",
        "risk_tier": "general",
        "ability_grade": "mild",
        "paying_scheme": "self_paid",
        "monthly_price": "25.00",
        "categories": [],
        "phone": "13900001111",
    }
    bad = client.post(reverse("clients:create"), {**data, "id_number": data["id_number"][:-1] + "Y"})
    assert bad.status_code == 200 and "id_number" in bad.context["form"].errors
    response = client.post(reverse("clients:create"), data)
    assert response.status_code == 302
    created = Client.objects.get(name="郑阿公")
    assert (
        created.status == "active"
        and created.paying_scheme == "self_paid"
        and str(created.monthly_price) == "25.00"
    )


def test_contact_order_buttons_on_the_client_page(client, agent, user_factory, people):
    wang = people["wang"]
    first, second = make_contact(wang, name="甲"), make_contact(wang, name="乙")
    auditor = user_factory(Role.AUDITOR, "350404000000")
    client.force_login(auditor)
    assert client.post(reverse("clients:contact-move", args=[second.pk]), {"action": "up"}).status_code == 403
    client.force_login(agent)
    client.post(reverse("clients:contact-move", args=[second.pk]), {"action": "up"})
    assert [c.name for c in wang.contacts.all()] == ["乙", "甲"]
    client.post(reverse("clients:contact-move", args=[first.pk]), {"action": "remove"})
    assert [c.name for c in wang.contacts.all()] == ["乙"]
