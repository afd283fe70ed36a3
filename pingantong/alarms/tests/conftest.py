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


async def fresh_sync_thread_connection() -> None:
    """asgiref runs every thread-sensitive sync call (the ORM in views, consumers, the relay) in one
    process-wide thread when there is no outer async_to_sync; a connection that thread opened in an
    earlier transactional test may point at a database state that no longer exists (in-memory SQLite
    is re-created per flush). Make it reconnect to this test's database."""
    from asgiref.sync import sync_to_async
    from django.db import connections

    def reconnect() -> None:
        for conn in connections.all(initialized_only=True):
            if conn.connection is not None:
                conn.connection.close()
                conn.connection = None
        from pingantong.alarms.models import Alarm

        Alarm.objects.exists()  # fail here, not later inside a request, if the database is wrong

    await sync_to_async(reconnect, thread_sensitive=True)()


async def close_sync_thread_connection() -> None:
    """Close the connection of asgiref's thread-sensitive thread (the ORM in views, consumers and
    `database_sync_to_async`). That thread lives as long as the process and Django keeps a connection
    per thread until the thread closes it: left open, PostgreSQL refuses to drop the test database at
    the end of the run. Await it in a loop with no outer async_to_sync (as `fresh_sync_thread_connection`)."""
    from asgiref.sync import sync_to_async
    from django.db import connections

    await sync_to_async(connections.close_all, thread_sensitive=True)()


def ensure_alarm_regions() -> None:
    """Transactional tests start from a flushed database (the regions app re-seeds only the
    district and its towns): put back the village the alarm tests use."""
    from pingantong.regions.models import Region
    from pingantong.testing.regions import TOWN_A, TOWN_B, ensure_regions

    ensure_regions()
    Region.objects.get_or_create(code=VILLAGE, defaults={"name": "江滨社区", "level": 5, "parent_id": TOWN_A})
    Region.objects.get_or_create(
        code=OTHER_TOWN_VILLAGE, defaults={"name": "列西社区", "level": 5, "parent_id": TOWN_B}
    )


@pytest.fixture(autouse=True)
def _fresh_centre_settings():
    """The alarm-centre settings are cached per process for a few seconds: no test may see the rows
    of the test before it (rolled back, but still cached)."""
    from pingantong.alarms import centre

    centre.forget_cache()
    yield
    centre.forget_cache()
