"""Catalogue (D1, D2), pages and API: region-restricted, clear refusals, bounded query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from pingantong.accounts.choices import Role
from pingantong.clients.testing import make_client
from pingantong.devices.models import DeviceState, DeviceType
from pingantong.inventory import actions
from pingantong.inventory.models import DeviceModel, DeviceTypeProfile, StockItem
from pingantong.testing.users import make_user

from .helpers import model, new_item

pytestmark = pytest.mark.django_db

TOWN_A, TOWN_B = "350404001000", "350404002000"
VILLAGE_B = "350404002001"
REQUIRED = [
    "watch",
    "pendant",
    "sos_button",
    "door",
    "motion",
    "smoke",
    "gas",
    "water_leak",
    "camera",
    "vitals",
]


def test_every_required_type_states_what_it_proves_its_interval_and_thresholds():
    for code in REQUIRED:
        device_type = DeviceType.objects.get(code=code)
        profile = DeviceTypeProfile.objects.get(device_type=device_type)
        assert profile.proves in ("device", "person") and profile.explanation
        assert device_type.expected_interval_s > 0 and profile.device_silence_s > 0
    watch = DeviceTypeProfile.objects.get(device_type_id="watch")
    assert watch.basic_terminal and {"location", "voice", "sos"} <= set(watch.functions)  # D1
    assert DeviceTypeProfile.objects.get(device_type_id="smoke").proves == "device"
    assert "no video" in DeviceTypeProfile.objects.get(device_type_id="camera").explanation
    assert DeviceTypeProfile.objects.filter(offered=True).count() >= 3  # D2


def test_models_carry_vendor_protocol_price_and_flags():
    multi = DeviceModel.objects.get(model__startswith="PAT-W2")
    assert multi.multi_function and multi.basic_terminal and multi.protocol == "watch" and multi.price > 0


def test_client_page_shows_offered_types_what_the_client_has_and_the_recommendation(client):
    elder = make_client()
    actions.assign_stock_item(item=new_item(model("door")), client=elder)
    installation = actions.start_installation(client=elder, installer=make_user(Role.FIELD_WORKER, TOWN_A))
    actions.record_home_test(installation=installation, signal_bars=4, mobility="independent")
    client.force_login(make_user(Role.AGENT, TOWN_A))
    html = client.get(reverse("inventory:client-devices", args=[elder.pk])).content.decode()
    assert html.count('data-testid="type-') >= 3
    door = html.split('data-testid="type-door"')[1].split("</li>")[0]
    watch = html.split('data-testid="type-watch"')[1].split("</li>")[0]
    assert "text-bg-success" in door and "text-primary" in watch


def _installed_device(region: str, code: str, hours: float):
    elder = make_client(region=region)
    item, _ = actions.assign_stock_item(item=new_item(model(code)), client=elder)
    seen = timezone.now() - dt.timedelta(hours=hours)
    DeviceState.objects.filter(device=item.device).update(last_device_seen_at=seen, battery_pct=50)
    return item.device


def test_health_screen_shows_my_towns_devices_with_their_problems_only(client, django_assert_max_num_queries):
    silent = _installed_device("350404001001", "watch", 20)
    fine = _installed_device("350404001001", "door", 20)
    other = _installed_device(VILLAGE_B, "watch", 20)
    client.force_login(make_user(Role.FIELD_WORKER, TOWN_A))
    with django_assert_max_num_queries(12):
        html = client.get(reverse("inventory:health")).content.decode()
    assert f'data-testid="health-{silent.pk}"' in html and f'data-testid="health-{fine.pk}"' in html
    assert f'data-testid="health-{other.pk}"' not in html
    row = html.split(f'data-testid="health-{silent.pk}"')[1].split("</tr>")[0]
    assert "silent" in row and "20.0 h / 2.0 h" in row


def test_stock_page_refuses_an_illegal_move_with_its_reason(client):
    item = new_item(region=TOWN_A)
    client.force_login(make_user(Role.FIELD_WORKER, TOWN_A))
    response = client.post(
        reverse("inventory:stock-transition", args=[item.pk]), {"action": "send_to_repair"}, follow=True
    )
    assert item.serial in response.content.decode()
    item.refresh_from_db()
    assert item.state == "in_stock"
    client.post(
        reverse("inventory:stock-transition", args=[item.pk]), {"action": "report_fault", "reason": "dead"}
    )
    item.refresh_from_db()
    assert item.state == "faulty"


def test_stock_of_another_town_is_invisible(client):
    mine, theirs = new_item(region=TOWN_A), new_item(region=TOWN_B)
    client.force_login(make_user(Role.FIELD_WORKER, TOWN_A))
    html = client.get(reverse("inventory:stock-list")).content.decode()
    assert mine.serial in html and theirs.serial not in html
    assert client.get(reverse("inventory:stock-detail", args=[theirs.pk])).status_code == 404


def test_api_stock_list_is_restricted_and_query_bounded(api_client, django_assert_max_num_queries):
    for _ in range(5):
        new_item(region=TOWN_A)
    new_item(region=TOWN_B)
    api_client.force_authenticate(make_user(Role.FIELD_WORKER, TOWN_A))
    with django_assert_max_num_queries(8):
        data = api_client.get("/api/v1/inventory/stock/").json()
    rows = data["results"] if isinstance(data, dict) else data
    assert len(rows) == 5


def test_api_assign_applies_the_subsidy_and_an_illegal_move_is_a_400_with_the_reason(api_client):
    item = new_item(region=TOWN_A)
    elder = make_client(address="江滨1号")
    api_client.force_authenticate(make_user(Role.FIELD_WORKER, TOWN_A))
    url = f"/api/v1/inventory/stock/{item.pk}/transition/"
    response = api_client.post(url, {"action": "assign", "client": elder.pk}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["charge"]["kind"] == "first_basic_free"
    response = api_client.post(url, {"action": "return_from_repair"}, format="json")
    assert response.status_code == 400 and item.serial in response.json()["action"][0]


def test_api_health_lists_problems_against_the_type_threshold(api_client):
    silent = _installed_device("350404001001", "watch", 20)
    api_client.force_authenticate(make_user(Role.SUPERVISOR, TOWN_A))
    rows = {r["device"]: r for r in api_client.get("/api/v1/inventory/health/").json()}
    assert rows[silent.pk]["problems"] == ["silent"] and rows[silent.pk]["threshold_s"] == 7200


def test_village_role_may_view_stock_but_not_move_it(api_client):
    item = new_item(region=TOWN_A)
    api_client.force_authenticate(make_user(Role.VILLAGE, TOWN_A))
    assert api_client.get(f"/api/v1/inventory/stock/{item.pk}/").status_code == 200
    response = api_client.post(
        f"/api/v1/inventory/stock/{item.pk}/transition/", {"action": "retire", "reason": "x"}, format="json"
    )
    assert response.status_code in (403, 404)
    assert StockItem.objects.get(pk=item.pk).state == "in_stock"


def test_navigation_offers_installations_to_field_workers(client):
    from pingantong.core.navigation import items_for

    labels = [i["url"] for i in items_for(make_user(Role.FIELD_WORKER, TOWN_A))]
    assert reverse("inventory:install-list") in labels and reverse("inventory:health") in labels


def test_api_installations_list_is_query_bounded(api_client, django_assert_max_num_queries):
    worker = make_user(Role.FIELD_WORKER, TOWN_A)
    for _ in range(4):
        installation = actions.start_installation(client=make_client(), installer=worker)
        actions.record_home_test(installation=installation, signal_bars=4, mobility="independent")
        actions.bind_installation_device(installation=installation, item=new_item())
    api_client.force_authenticate(worker)
    with django_assert_max_num_queries(10):
        data = api_client.get("/api/v1/inventory/installations/").json()
    rows = data["results"] if isinstance(data, dict) else data
    assert len(rows) == 4 and all(len(r["items"]) == 1 for r in rows)


def test_receiving_stock_through_the_api_lands_only_where_the_user_may_add(api_client):
    worker = make_user(Role.FIELD_WORKER, TOWN_A)
    api_client.force_authenticate(worker)
    payload = {
        "serial": "NEW-1",
        "device_model": model("watch").pk,
        "identity": "4711110001",
        "store_region": TOWN_A,
    }
    response = api_client.post("/api/v1/inventory/stock/", payload, format="json")
    assert response.status_code == 201, response.content
    item = StockItem.objects.get(serial="NEW-1")
    assert item.region_id == TOWN_A and item.device.identity == "4711110001" and item.events.count() == 1
    response = api_client.post(
        "/api/v1/inventory/stock/", {**payload, "serial": "NEW-2", "store_region": TOWN_B}
    )
    assert response.status_code == 403 and not StockItem.objects.filter(serial="NEW-2").exists()
    response = api_client.post("/api/v1/inventory/stock/", payload, format="json")
    assert response.status_code == 400 and "NEW-1" in str(response.json())


def test_receiving_stock_on_the_page(client):
    worker = make_user(Role.FIELD_WORKER, TOWN_A)
    client.force_login(worker)
    assert 'data-testid="receive-form"' in client.get(reverse("inventory:stock-list")).content.decode()
    response = client.post(
        reverse("inventory:stock-receive"),
        {
            "serial": "PG-1",
            "device_model": model("door").pk,
            "identity": "0x00158d0001",
            "store_region": TOWN_A,
        },
    )
    item = StockItem.objects.get(serial="PG-1")
    assert response.url == reverse("inventory:stock-detail", args=[item.pk])
    assert item.device.protocol == "mqtt" and item.device.device_type_id == "door"


def test_home_widget_counts_what_needs_a_field_worker(client):
    _installed_device("350404001001", "watch", 20)  # silent
    _installed_device("350404001001", "door", 20)  # fine
    _installed_device(VILLAGE_B, "watch", 20)  # another town
    client.force_login(make_user(Role.FIELD_WORKER, TOWN_A))
    html = client.get("/").content.decode()
    widget = html.split('data-testid="inventory-widget"')[1].split("</ul>")[0]
    assert "<strong>1</strong>" in widget.split("inventory/health/")[1].split("</li>")[0]
