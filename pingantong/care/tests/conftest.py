"""Fixtures of the care tests: a fixed clock and clients from the clients app's test helpers."""

from __future__ import annotations

import datetime as dt

import pytest

# 2026-03-10 (a Tuesday) 02:00 UTC = 10:00 in Shanghai.
NOW = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def now() -> dt.datetime:
    return NOW


@pytest.fixture
def client_factory(db):
    from pingantong.clients.testing import make_client

    return make_client
