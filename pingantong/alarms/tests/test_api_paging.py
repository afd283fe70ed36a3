"""The queue API and the signals API stay cheap when history piles up: the open queue is read
without DISTINCT (a sort over every matching alarm), signals are paged without COUNT(*)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pingantong.alarms import actions

pytestmark = pytest.mark.django_db


def test_open_queue_query_has_no_distinct(api_client, agent):
    actions.raise_alarm(alarm_type="sos", device_ident="4700000010")
    api_client.force_authenticate(agent)
    with CaptureQueriesContext(connection) as queries:
        rows = api_client.get("/api/v1/alarms/?status=open&status=claimed").json()["results"]
    assert len(rows) == 1
    alarm_sql = [q["sql"] for q in queries if 'FROM "alarms_alarm"' in q["sql"]]
    assert alarm_sql and not any("DISTINCT" in sql for sql in alarm_sql)


def test_signals_are_paged_without_count(api_client, agent):
    for n in range(3):
        actions.record_signal(signal_type="low_battery", device_ident=f"sig{n}")
    api_client.force_authenticate(agent)
    with CaptureQueriesContext(connection) as queries:
        body = api_client.get("/api/v1/alarm-signals/?page_size=2").json()
    assert len(body["results"]) == 2 and body["next"] is not None
    assert not any("COUNT(" in q["sql"] for q in queries if "alarms_signal" in q["sql"])
