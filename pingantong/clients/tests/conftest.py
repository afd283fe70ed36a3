import pytest

from pingantong.accounts.choices import Role

VILLAGE = "350404001001"  # 江滨社区, 列东街道
TOWN = "350404001000"  # 列东街道
OTHER_TOWN = "350404002000"  # 列西街道
DISTRICT = "350404000000"


@pytest.fixture
def village_user(user_factory):
    return user_factory(Role.VILLAGE, VILLAGE)


@pytest.fixture
def township_user(user_factory):
    return user_factory(Role.TOWNSHIP, TOWN)


@pytest.fixture
def district_user(user_factory):
    return user_factory(Role.DISTRICT, DISTRICT)


@pytest.fixture
def agent(user_factory):
    return user_factory(Role.AGENT, DISTRICT)


@pytest.fixture
def agency_admin(user_factory):
    return user_factory(Role.AGENCY_ADMIN, DISTRICT)


@pytest.fixture(autouse=True)
def english():
    """Assertions read the English source strings; the zh-Hans catalogue is checked apart."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def client():
    from django.test import Client

    return Client(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient(HTTP_ACCEPT_LANGUAGE="en")
