"""Fixtures of the alarm-centre tests: a bound client with contacts, users per role."""

from __future__ import annotations

import pytest

VILLAGE = "350404001001"
OTHER_TOWN_VILLAGE = "350404002001"
DISTRICT = "350404000000"


@pytest.fixture
def client_factory(db):
    from pingantong.clients.testing import make_client

    return make_client


@pytest.fixture
def contact_factory(db):
    from pingantong.clients.testing import make_contact

    return make_contact


@pytest.fixture
def elder(client_factory):
    return client_factory(VILLAGE, name="王奶奶", medical_notes="高血压, 糖尿病", access_notes="钥匙在邻居家")


@pytest.fixture
def agent(user_factory):
    return user_factory("agent", DISTRICT, display_name="坐席小李")


@pytest.fixture
def agent2(user_factory):
    return user_factory("agent", DISTRICT, display_name="坐席小张")


@pytest.fixture
def supervisor(user_factory):
    return user_factory("supervisor", DISTRICT, display_name="主管老陈")
