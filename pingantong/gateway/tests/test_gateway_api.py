"""Gateway metrics endpoint: operators see the counters, other roles do not."""

from __future__ import annotations

import pytest

from pingantong.accounts.choices import Role
from pingantong.gateway.listeners.metrics import REGISTRY, ListenerMetrics

pytestmark = pytest.mark.django_db


def test_operator_sees_listener_counters(api_client, user_factory):
    REGISTRY["watch"] = ListenerMetrics(protocol="watch", frames=7, malformed=1, acked=6)
    api_client.force_authenticate(user_factory(Role.SYSADMIN))
    body = api_client.get("/api/v1/gateway/metrics/").json()
    assert body["listeners"]["watch"]["frames"] == 7
    assert body["listeners"]["watch"]["malformed"] == 1


def test_village_role_may_not_read_gateway_metrics(api_client, user_factory):
    api_client.force_authenticate(user_factory(Role.VILLAGE, "350404001001"))
    assert api_client.get("/api/v1/gateway/metrics/").status_code == 403
    api_client.force_authenticate(None)
    assert api_client.get("/api/v1/gateway/metrics/").status_code in (401, 403)
