"""Client actions: duplicates refused clearly, consent and frequency requests (X2, Q2)."""

import pytest
from django.core.exceptions import ValidationError

from pingantong.clients import actions
from pingantong.clients.choices import FrequencyRequestStatus
from pingantong.clients.idnumber import make_test_id_number
from pingantong.clients.models import Client
from pingantong.clients.selectors import has_consent
from pingantong.clients.testing import make_client

from .conftest import VILLAGE

pytestmark = pytest.mark.django_db


def test_duplicate_id_number_is_refused_naming_the_existing_client(agent):
    number = make_test_id_number(sequence=401)
    make_client(id_number=number, name="王秀英")
    with pytest.raises(ValidationError) as exc:
        actions.register_client(id_number=number, by=agent, name="王秀英二", region_id=VILLAGE)
    message = exc.value.message_dict["id_number"][0]
    assert "already registered" in message and "王秀英" in message
    assert Client.objects.count() == 1


def test_duplicate_is_found_even_with_lowercase_x_or_spaces(agent):
    number = next(n for n in (make_test_id_number(sequence=i) for i in range(200)) if n.endswith("X"))
    actions.register_client(id_number=number, by=agent, name="甲", region_id=VILLAGE)
    with pytest.raises(ValidationError):
        actions.register_client(id_number=f" {number.lower()} ", by=agent, name="乙", region_id=VILLAGE)


def test_invalid_number_changes_nothing(agent):
    with pytest.raises(ValidationError) as exc:
        actions.register_client(id_number="350404194503010010", by=agent, name="甲", region_id=VILLAGE)
    assert "id_number" in exc.value.message_dict
    assert not Client.objects.exists()


def test_unknown_category_is_refused(agent):
    with pytest.raises(ValidationError) as exc:
        actions.register_client(
            id_number=make_test_id_number(sequence=402),
            by=agent,
            name="甲",
            region_id=VILLAGE,
            categories=["rich"],
        )
    assert "categories" in exc.value.message_dict


def test_withdrawal_takes_effect_at_once_and_keeps_history(agent):
    client = make_client()
    actions.record_consent(client=client, purpose="location_share", granted=True, method="written", by=agent)
    assert has_consent(client, "location_share")
    actions.record_consent(
        client=client, purpose="location_share", granted=False, method="verbal_recorded", by=agent
    )
    assert not has_consent(client, "location_share")
    assert client.consents.count() == 2
    assert not has_consent(client, "health_data")  # never recorded = no


def test_frequency_change_applies_only_after_client_confirmation(agent):
    client = make_client()
    request = actions.request_frequency_change(
        client=client, kind="visit", interval_days=14, by=agent, reason="wants fewer visits"
    )
    client.refresh_from_db()
    assert client.visit_interval_days is None
    actions.confirm_frequency_change(request=request, method="verbal_recorded", by=agent)
    client.refresh_from_db()
    request.refresh_from_db()
    assert client.visit_interval_days == 14
    assert request.status == FrequencyRequestStatus.CONFIRMED and request.confirmed_at is not None
    with pytest.raises(ValidationError):
        actions.confirm_frequency_change(request=request, method="verbal_recorded", by=agent)


def test_home_location_out_of_range_is_refused(agent):
    client = make_client()
    with pytest.raises(ValidationError):
        actions.set_home_location(client=client, lat=126.0, lon=117.6, source="map_pin", by=agent)
    actions.set_home_location(client=client, lat=26.26, lon=117.64, source="installer_checkin", by=agent)
    client.refresh_from_db()
    assert (client.home_lat, client.home_location_source) == (26.26, "installer_checkin")


def test_phone_and_call_windows_are_checked(agent):
    client = make_client()
    with pytest.raises(ValidationError) as exc:
        actions.update_client(client=client, by=agent, phone="call me")
    assert "phone" in exc.value.message_dict
    with pytest.raises(ValidationError):
        actions.update_client(client=client, by=agent, preferred_call_times=[["11:00", "09:00"]])
    actions.update_client(client=client, by=agent, preferred_call_times=[["9:00", "11:30"]])
    client.refresh_from_db()
    assert client.preferred_call_times == [["09:00", "11:30"]]
    with pytest.raises(ValidationError):
        actions.add_contact(client=client, by=agent, name="甲", phone="abc")


def test_contacts_move_and_removal_keep_a_gapless_calling_order(agent):
    from pingantong.clients.testing import make_contact

    client = make_client()
    a, _b, c = (make_contact(client, name=n) for n in "甲乙丙")
    actions.move_contact(contact=c, by=agent, up=True)
    assert [x.name for x in client.contacts.all()] == ["甲", "丙", "乙"]
    actions.remove_contact(contact=a, by=agent)
    assert [(x.name, x.priority) for x in client.contacts.all()] == [("丙", 1), ("乙", 2)]


def test_a_client_belongs_to_a_village_not_a_town(agent):
    with pytest.raises(ValidationError) as exc:
        actions.register_client(
            id_number=make_test_id_number(sequence=403), by=agent, name="甲", region_id="350404001000"
        )
    assert "region" in exc.value.message_dict
