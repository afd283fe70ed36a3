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
