"""The demonstration district: real villages, valid fictitious ID numbers, logins for every role,
loaded once and the same for the same seed."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from stdnum.cn import ric

from pingantong.accounts.choices import Role
from pingantong.demo import loading
from pingantong.demo.loading import load_demo

pytestmark = pytest.mark.django_db

SMALL = 45  # clients: enough for every township's villages, fast enough for the suite


@pytest.fixture
def loaded(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    out = io.StringIO()
    result = load_demo(out, clients=SMALL, password="Demo-Password-1")
    return result, out.getvalue()


def test_clients_have_valid_fictitious_id_numbers_and_are_60_or_over(loaded):
    from pingantong.clients.idnumber import validate_client_id_number
    from pingantong.clients.models import Client

    clients = list(Client.objects.filter(notes="演示数据（虚构）"))
    assert len(clients) == SMALL
    numbers = [c.id_number for c in clients]
    assert len(set(numbers)) == SMALL
    for number in numbers:
        assert number.startswith("350404")
        assert ric.calc_check_digit(number) == number[-1]
        assert 1930 <= int(number[6:10]) <= 1964
        validate_client_id_number(number)  # the clients app's own check (60+, checksum, region)


def test_clients_live_in_real_villages_of_sanyuan(loaded):
    from pingantong.clients.models import Client
    from pingantong.regions.models import Region

    codes = set(Client.objects.values_list("region_id", flat=True))
    villages = Region.objects.filter(code__in=codes)
    assert villages.count() == len(codes)
    assert {v.level for v in villages} == {5}
    assert all(code.startswith("350404") for code in codes)
    towns = {code[:9] for code in codes}
    assert len(towns) >= 10  # spread over the district's townships, not one corner


def test_every_role_has_a_login_that_works(loaded, client, settings):
    from pingantong.accounts.models import RoleAssignment

    _result, output = loaded
    held = set(RoleAssignment.objects.values_list("role", flat=True))
    assert held >= {r.value for r in Role}
    for role in Role:
        username = RoleAssignment.objects.filter(role=role).values_list("user__username", flat=True)[0]
        response = client.post(reverse("login"), {"username": username, "password": "Demo-Password-1"})
        assert response.status_code == 302, username  # redirected home: the login worked
        assert client.session.get("_auth_user_id"), username
        client.logout()
    saved = (settings.VAR_DIR / "demo-logins.txt").read_text()
    assert "Demo-Password-1" in saved and "agent01" in saved and "auditor01" in saved
    assert "Demo-Password-1" in output


def test_village_login_covers_a_few_villages_of_one_township(loaded):
    from pingantong.accounts.models import RoleAssignment, User
    from pingantong.clients.models import Client

    user = User.objects.get(username="village01")
    regions = list(RoleAssignment.objects.filter(user=user).values_list("region_id", flat=True))
    assert 1 <= len(regions) <= 3
    assert len({code[:9] for code in regions}) == 1
    visible = Client.objects.restrict(user, "view")
    assert visible.exists()
    assert set(visible.values_list("region_id", flat=True)) <= set(regions)


def test_contacts_in_calling_order_and_street_contact_for_special_difficulty(loaded):
    from pingantong.clients.models import Client

    for c in Client.objects.filter(notes="演示数据（虚构）").prefetch_related("contacts"):
        contacts = list(c.contacts.all())
        assert contacts, c
        assert [x.priority for x in contacts] == list(range(1, len(contacts) + 1))
        if {"childless", "incapacitated", "severe_disability", "family_planning"} & set(c.categories):
            assert any(x.is_street_designated for x in contacts), c
        if "childless" in c.categories:
            assert not any(x.relation == "child" for x in contacts)
        for x in contacts:
            assert len(x.phone) == 11 and x.phone.startswith("19")


def test_devices_are_bound_in_their_clients_region_with_at_least_three_types(loaded):
    from pingantong.clients.models import Client
    from pingantong.devices.models import Device, DeviceState

    devices = list(Device.objects.all())
    assert Device.objects.values("device_type").distinct().count() >= 3  # D2
    assert {d.protocol for d in devices} == {"watch", "jt808", "mqtt"}
    assert DeviceState.objects.count() == len(devices)
    for c in Client.objects.filter(notes="演示数据（虚构）"):
        wearables = [d for d in devices if d.client_id == c.pk and d.protocol in ("watch", "jt808")]
        assert len(wearables) == 1, c  # D1: one basic terminal per client
        assert wearables[0].region_id == c.region_id


def test_wearables_start_with_a_recent_life_sign_near_home(loaded):
    import datetime as dt

    from django.utils import timezone

    from pingantong.devices.models import DeviceState

    states = list(
        DeviceState.objects.filter(device__protocol__in=["watch", "jt808"]).select_related("device__client")
    )
    assert len(states) == SMALL
    now = timezone.now()
    recent = [s for s in states if s.last_life_sign_at and now - s.last_life_sign_at < dt.timedelta(hours=24)]
    assert len(recent) >= SMALL * 0.9  # a normal day: nearly everyone seen today
    for s in states:
        assert abs(s.latitude - s.device.client.home_lat) < 0.01
        assert abs(s.longitude - s.device.client.home_lon) < 0.01


def test_consents_and_signed_agreements_for_every_demo_client(loaded):
    from pingantong.clients.models import Agreement, Client, Consent
    from pingantong.clients.selectors import has_consent

    clients = list(Client.objects.filter(notes="演示数据（虚构）"))
    assert Consent.objects.filter(client__in=clients).values("client").distinct().count() == SMALL
    assert all(has_consent(c, "provincial_sync") for c in clients)
    signed = Agreement.objects.filter(client__in=clients, status="signed")
    assert signed.count() == SMALL
    assert all(a.items.filter(code="S01").exists() for a in signed[:5])


def test_second_load_changes_nothing(loaded):
    from pingantong.accounts.models import User
    from pingantong.clients.models import Client
    from pingantong.devices.models import Device

    before = (Client.objects.count(), Device.objects.count(), User.objects.count())
    out = io.StringIO()
    again = load_demo(out)
    assert again.loaded is False
    assert "already loaded" in out.getvalue()
    assert (Client.objects.count(), Device.objects.count(), User.objects.count()) == before


def test_same_seed_gives_the_same_district():
    from pingantong.demo.residents import build_clients

    villages = loading.demo_villages(7)
    assert villages == loading.demo_villages(7)
    first = [(c.name, c.id_number, c.region_id, c.home_lat) for c in build_clients(20, villages, 7)]
    second = [(c.name, c.id_number, c.region_id, c.home_lat) for c in build_clients(20, villages, 7)]
    other = [(c.name, c.id_number) for c in build_clients(20, villages, 8)]
    assert first == second
    assert [x[:2] for x in first] != other


def test_a_part_whose_app_is_missing_is_skipped_with_a_note(settings, tmp_path, monkeypatch):
    from pingantong.clients.models import Client

    settings.VAR_DIR = tmp_path

    def not_ready(state):
        raise ImportError("No module named 'pingantong.devices.fleet'")

    parts = [(name, not_ready if name == "devices" else fn) for name, fn in loading.PARTS]
    monkeypatch.setattr(loading, "PARTS", parts)
    out = io.StringIO()
    result = load_demo(out, clients=10, password="Demo-Password-1")
    assert "devices: skipped" in out.getvalue()
    assert "devices" in result.skipped
    assert Client.objects.count() >= 10  # the other parts loaded


def test_loaddemo_refuses_a_database_with_real_clients(settings, tmp_path):
    from pingantong.clients.testing import make_client

    settings.VAR_DIR = tmp_path
    make_client()
    with pytest.raises(CommandError, match="already holds clients"):
        call_command("loaddemo", stdout=io.StringIO())


def test_first_run_of_pingantong_run_loads_the_demo(settings, tmp_path, monkeypatch):
    from pingantong.clients.models import Client
    from pingantong.core.management.commands.run import Command

    settings.VAR_DIR = tmp_path
    settings.PINGANTONG_DEMO = True
    monkeypatch.setenv("PINGANTONG_DEMO_CLIENTS", "12")
    Command(stdout=io.StringIO()).first_run_setup()
    assert loading.is_loaded()
    assert Client.objects.count() >= 12
