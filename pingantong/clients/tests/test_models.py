"""The client record: encrypted ID with a searchable blind index, consent state, contact order."""

import datetime as dt

import pytest
from django.db import connection

from pingantong.clients import crypto
from pingantong.clients.choices import Category, ConsentMethod, ConsentPurpose
from pingantong.clients.models import Client, Consent
from pingantong.clients.selectors import filter_category, has_consent, with_consent
from pingantong.clients.testing import make_client, make_contact

pytestmark = pytest.mark.django_db


def test_id_number_is_not_stored_in_clear_but_is_found_by_full_number():
    client = make_client(id_number="350403194503010016")
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number_encrypted, id_number_hmac, id_number_masked FROM clients_client")
        encrypted, hmac_value, masked = cursor.fetchone()
    assert "350403194503010016" not in encrypted + hmac_value
    assert masked == "350403********0016"
    assert Client.objects.get(id_number_hmac=crypto.blind_index("350403194503010016")) == client
    assert Client.objects.get(pk=client.pk).id_number == "350403194503010016"


def test_birth_date_and_gender_are_derived_from_the_id_number():
    client = make_client(id_number="350403194503010016")
    assert client.birth_date == dt.date(1945, 3, 1)
    assert client.gender == "male"


def test_withdrawn_consent_is_effective_at_once():
    from django.utils import timezone

    client = make_client()
    assert not has_consent(client, ConsentPurpose.LOCATION_QUERY)
    Consent.objects.create(
        client=client,
        purpose="location_query",
        granted=True,
        effective_at=timezone.now(),
        method=ConsentMethod.WRITTEN,
    )
    assert has_consent(client, "location_query")
    assert list(with_consent(Client.objects.all(), "location_query")) == [client]
    Consent.objects.create(
        client=client,
        purpose="location_query",
        granted=False,
        effective_at=timezone.now(),
        method=ConsentMethod.VERBAL_RECORDED,
    )
    assert not has_consent(client, "location_query")
    assert list(with_consent(Client.objects.all(), "location_query")) == []


def test_contacts_come_in_priority_order():
    client = make_client()
    second = make_contact(client, priority=2)
    first = make_contact(client, priority=1)
    assert list(client.contacts.all()) == [first, second]


def test_category_filter_matches_any_of_several_categories():
    both = make_client(categories=[Category.LIVING_ALONE, Category.SEVERE_DISABILITY])
    make_client(categories=[Category.EMPTY_NEST])
    assert list(filter_category(Client.objects.all(), ["severe_disability"])) == [both]


def test_bench_population_can_be_called_twice_without_id_collisions():
    from pingantong.clients.bench import _populate

    first = _populate(30)
    second = _populate(30)
    assert len(set(first) | set(second)) == 60
    assert Client.objects.count() == 60
    assert Client.objects.filter(id_number_hmac=crypto.blind_index(second[-1])).get().id_number == second[-1]
