"""Tests that need PostgreSQL, Redis or MQTT skip with a reason where the service is absent, and
fail instead when PINGANTONG_REQUIRE_SERVICES=1 (as in CI)."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import pytest

REQUIRE = os.environ.get("PINGANTONG_REQUIRE_SERVICES", "") == "1"

DEFAULTS = {
    "postgres": os.environ.get("PINGANTONG_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test"),
    "redis": os.environ.get("PINGANTONG_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
    "mqtt": os.environ.get("PINGANTONG_TEST_MQTT_URL", "mqtt://127.0.0.1:1883"),
}
PORTS = {"postgres": 5432, "redis": 6379, "mqtt": 1883}


def service_url(name: str) -> str:
    return DEFAULTS[name]


def reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1
        ):
            return True
    except OSError:
        return False


def require_service(name: str) -> str:
    """Return the service's URL, or skip (fail under PINGANTONG_REQUIRE_SERVICES=1) if absent."""
    url = service_url(name)
    if not reachable(url, PORTS[name]):
        message = f"{name} is not reachable at {url}"
        if REQUIRE:
            pytest.fail(f"{message} and PINGANTONG_REQUIRE_SERVICES=1")
        pytest.skip(message)
    return url


def require_condition(ok: bool, reason: str) -> None:
    """Skip (or fail when services are required) unless `ok`."""
    if not ok:
        if REQUIRE:
            pytest.fail(f"{reason} and PINGANTONG_REQUIRE_SERVICES=1")
        pytest.skip(reason)
