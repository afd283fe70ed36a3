"""The installation visit (D3, D4) through the field worker's pages, with the live activation check
against a real gateway socket (the device's first message after binding), and the step rules."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from pingantong.accounts.choices import Role
from pingantong.clients.testing import make_client
from pingantong.demo.simulator.frames import watch_lk
from pingantong.gateway.tests.gwtools import Terminal, running_gateway
from pingantong.inventory import actions
from pingantong.inventory.choices import TEACHING_CHECKLIST, ChargeKind, InstallationStatus, StockState
from pingantong.inventory.models import Installation, InstallationItem
from pingantong.testing.users import make_user
from pingantong.testing.waiting import wait_for

from .helpers import model, new_item

TOWN = "350404001000"
HOME = (26.2634, 117.6389)
ALL_TAUGHT = [key for key, _label in TEACHING_CHECKLIST]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _home_test(**extra):
    data = {
        "step": "home_test",
        "carrier": "china_mobile",
        "signal_dbm": "-85",
        "mobility": "independent",
        "hearing_ok": "on",
        "can_press_button": "on",
        "cognition_ok": "on",
        "lives_alone": "on",
        "wishes": "想要能打电话的",
    }
    data.update(extra)
    return data


@pytest.mark.django_db(transaction=True)
def test_installation_flow_waits_for_the_first_real_message_through_the_gateway(client, media):
    installer = make_user(Role.FIELD_WORKER, TOWN)
    elder = make_client(address="江滨社区1号", home_lat=HOME[0], home_lon=HOME[1])
    item = new_item(model("watch"), region=TOWN, identity="4700186508")
    client.force_login(installer)

    response = client.post(reverse("inventory:install-start", args=[elder.pk]))
    installation = Installation.objects.get(client=elder)
    page = reverse("inventory:install-page", args=[installation.pk])
    assert response.url == page
    client.post(page, {"step": "checkin", "latitude": HOME[0] + 0.0003, "longitude": HOME[1], "accuracy": 12})
    client.post(page, _home_test())
    installation.refresh_from_db()
    assert installation.checkin_at is not None and installation.distance_m < 50
    assert installation.recommended_types[0] == "watch" and "door" in installation.recommended_types

    client.post(page, {"step": "bind", "item": item.pk})
    line = InstallationItem.objects.get(installation=installation)
    item.refresh_from_db()
    assert item.state == StockState.ASSIGNED and item.device.client_id == elder.pk
    assert item.charges.get().kind == ChargeKind.FIRST_BASIC_FREE

    poll = reverse("inventory:install-activation", args=[installation.pk, line.pk])
    waiting = client.get(poll).content.decode()
    assert 'hx-trigger="every 2s"' in waiting and f"waiting-{line.pk}" in waiting

    with running_gateway(ports={"watch": 0}) as (_gateway, ports, _lt):
        watch = Terminal(ports["watch"])
        watch.send(watch_lk("4700186508", steps=10, battery=95))
        assert watch.read_until(b"]") == b"[3G*4700186508*0002*LK]"
        wait_for(lambda: f"activated-{line.pk}" in client.get(poll).content.decode())
        watch.close()
    line.refresh_from_db()
    assert line.activated_at is not None and line.activated_at >= line.bound_at
    assert line.first_event.message == "LK"

    missing = client.get(page).content.decode()
    assert 'data-testid="missing"' in missing  # SIM and teaching still open
    response = client.post(
        page,
        {"step": "complete", "taught": ALL_TAUGHT, "confirmed_by": "family", "confirmed_name": "李小红"},
    )
    installation.refresh_from_db()
    assert installation.status == InstallationStatus.OPEN  # refused: SIM real name not confirmed
    client.post(page, {"step": "sim", "line": line.pk})
    client.post(
        page, {"step": "photo", "photo": SimpleUploadedFile("w.jpg", b"\xff\xd8\xff\xe0jpeg", "image/jpeg")}
    )
    client.post(
        page,
        {"step": "complete", "taught": ALL_TAUGHT, "confirmed_by": "family", "confirmed_name": "李小红"},
    )
    installation.refresh_from_db()
    item.refresh_from_db()
    assert installation.status == InstallationStatus.DONE and installation.confirmed_name == "李小红"
    assert installation.photos.count() == 1 and sorted(installation.taught) == sorted(ALL_TAUGHT)
    assert item.state == StockState.INSTALLED and item.sim_real_name == "registered"
    assert item.events.filter(action="install", data__installation_id=installation.pk).exists()


@pytest.mark.django_db
def test_a_message_sent_before_binding_does_not_count_as_activation():
    from django.utils import timezone

    from pingantong.devices.models import DeviceEventRecord

    elder = make_client()
    item = new_item(model("watch"))
    DeviceEventRecord.objects.create(
        device=item.device,
        protocol="watch",
        device_identity=item.device.identity,
        message="LK",
        kind="heartbeat",
        received_at=timezone.now(),
    )
    installation = actions.start_installation(client=elder, installer=make_user(Role.FIELD_WORKER, TOWN))
    actions.record_home_test(installation=installation, signal_bars=4, mobility="independent")
    line = actions.bind_installation_device(installation=installation, item=item)
    assert actions.check_activation(line=line) is False


@pytest.mark.django_db
def test_binding_needs_the_home_test_first_and_a_device_in_stock():
    elder = make_client()
    installation = actions.start_installation(client=elder, installer=make_user(Role.FIELD_WORKER, TOWN))
    item = new_item()
    with pytest.raises(actions.InstallationError, match="home test"):
        actions.bind_installation_device(installation=installation, item=item)
    actions.record_home_test(installation=installation, signal_bars=3, mobility="with_aid")
    other, _ = actions.assign_stock_item(item=new_item(), client=make_client())
    with pytest.raises(actions.InstallationError, match=other.serial):
        actions.bind_installation_device(installation=installation, item=other)


@pytest.mark.django_db
def test_check_in_far_from_home_needs_a_reason():
    elder = make_client(home_lat=HOME[0], home_lon=HOME[1])
    installation = actions.start_installation(client=elder, installer=make_user(Role.FIELD_WORKER, TOWN))
    with pytest.raises(actions.InstallationError, match="give a reason"):
        actions.check_in_installation(installation=installation, latitude=HOME[0] + 0.05, longitude=HOME[1])
    actions.check_in_installation(
        installation=installation,
        latitude=HOME[0] + 0.05,
        longitude=HOME[1],
        reason="client at daughter's home",
    )
    assert installation.distance_m > 5000 and installation.off_site_reason


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("facts", "expected", "absent"),
    [
        ({"signal_dbm": -80, "mobility": "independent"}, ["watch"], ["sos_button"]),
        ({"signal_dbm": -115, "mobility": "independent"}, ["sos_button"], ["watch", "pendant"]),
        (
            {"signal_bars": 3, "mobility": "bedridden", "lives_alone": True},
            ["pendant", "sos_button", "door"],
            ["watch"],
        ),
        ({"signal_bars": 4, "mobility": "independent", "uses_gas": True}, ["watch", "gas"], []),
        ({"signal_bars": 4, "mobility": "independent", "wishes": "不戴手表"}, ["pendant"], ["watch"]),
    ],
)
def test_home_test_recommends_types_from_signal_condition_and_wishes(facts, expected, absent):
    installation = actions.start_installation(
        client=make_client(), installer=make_user(Role.FIELD_WORKER, TOWN)
    )
    actions.record_home_test(installation=installation, **facts)
    for code in expected:
        assert code in installation.recommended_types
    for code in absent:
        assert code not in installation.recommended_types


@pytest.mark.django_db
def test_home_test_without_a_signal_measurement_is_refused():
    installation = actions.start_installation(
        client=make_client(), installer=make_user(Role.FIELD_WORKER, TOWN)
    )
    with pytest.raises(actions.InstallationError, match="signal"):
        actions.record_home_test(installation=installation, mobility="independent")
    with pytest.raises(actions.InstallationError, match="dBm"):
        actions.record_home_test(installation=installation, signal_dbm=20, mobility="independent")


@pytest.mark.django_db
def test_a_field_worker_of_another_town_cannot_open_the_installation(client):
    elder = make_client()
    installation = actions.start_installation(client=elder, installer=make_user(Role.FIELD_WORKER, TOWN))
    client.force_login(make_user(Role.FIELD_WORKER, "350404002000"))
    assert client.get(reverse("inventory:install-page", args=[installation.pk])).status_code == 404
    assert client.post(reverse("inventory:install-start", args=[elder.pk])).status_code == 404


@pytest.mark.django_db
def test_cancelling_an_installation_puts_its_devices_back_and_voids_their_charges():
    elder = make_client()
    installation = actions.start_installation(client=elder, installer=make_user(Role.FIELD_WORKER, TOWN))
    actions.record_home_test(installation=installation, signal_bars=4, mobility="independent")
    line = actions.bind_installation_device(installation=installation, item=new_item())
    with pytest.raises(actions.InstallationError, match="why"):
        actions.cancel_installation(installation=installation, reason=" ")
    installation = actions.cancel_installation(installation=installation, reason="family declined")
    line.item.refresh_from_db()
    assert installation.status == InstallationStatus.CANCELLED
    assert line.item.state == StockState.IN_STOCK and line.item.client is None
    assert line.item.charges.get().voided_at is not None


@pytest.mark.django_db
def test_install_page_shows_the_charge_explanation_of_each_device(client):
    elder = make_client(address="江滨9号")
    worker = make_user(Role.FIELD_WORKER, TOWN)
    installation = actions.start_installation(client=elder, installer=worker)
    actions.record_home_test(installation=installation, signal_bars=4, mobility="independent")
    line = actions.bind_installation_device(
        installation=installation, item=new_item(model("watch", multi=True))
    )
    client.force_login(worker)
    html = client.get(reverse("inventory:install-page", args=[installation.pk])).content.decode()
    assert f'data-testid="charge-{line.pk}"' in html and "340.00" in html
