"""Array parameters written as text (`pgarray`) read back in PostgreSQL as exactly the values
psycopg's own list adaptation would give, for every kind the rules stage sends."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pingantong.gateway import pgarray
from pingantong.testing.services import require_service

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def pg():
    import psycopg

    url = require_service("postgres")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        yield conn


def _read(pg, literal: str, sql_type: str) -> list:
    # As Django sends it: a client-side bound string, cast in SQL.
    import psycopg

    cur = psycopg.ClientCursor(pg)
    cur.execute(f"SELECT %s::{sql_type}", [literal])
    return cur.fetchone()[0]


_settings = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_settings
@given(st.lists(st.none() | st.integers(-(2**63), 2**63 - 1), max_size=20))
def test_bigint_arrays(pg, values) -> None:
    assert _read(pg, pgarray.int_array(values), "bigint[]") == values


@_settings
@given(st.lists(st.none() | st.floats(allow_nan=True), max_size=20))
def test_float_arrays(pg, values) -> None:
    back = _read(pg, pgarray.float_array(values), "float8[]")
    assert len(back) == len(values)
    for got, want in zip(back, values, strict=True):
        assert (got is None and want is None) or got == want or (math.isnan(got) and math.isnan(want))


@_settings
@given(st.lists(st.none() | st.booleans(), max_size=20))
def test_bool_arrays(pg, values) -> None:
    assert _read(pg, pgarray.bool_array(values), "bool[]") == values


_zones = st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))])


@_settings
@given(
    st.lists(
        st.none()
        | st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1), timezones=_zones),
        max_size=20,
    )
)
def test_times_as_epoch_microseconds_come_back_exactly(pg, values) -> None:
    import psycopg

    cur = psycopg.ClientCursor(pg)
    cur.execute(
        f"SELECT array_agg({pgarray.from_epoch_us('u')} ORDER BY n) "
        "FROM unnest(%s::bigint[]) WITH ORDINALITY AS t(u, n)",
        [pgarray.epoch_us_array(values)],
    )
    assert (cur.fetchone()[0] or []) == values


def test_the_conversion_is_exact_at_every_microsecond_of_a_second(pg) -> None:
    """Every microsecond of one second this year and of one in 2099: a rounding error of half a
    microsecond anywhere in `from_epoch_us` would show here."""
    for base in (
        datetime(2026, 11, 30, 8, 59, 59, tzinfo=UTC),
        datetime(2099, 12, 31, 23, 59, 59, tzinfo=UTC),
    ):
        first = int(pgarray.epoch_us_array([base])[1:-1])
        row = pg.execute(
            f"SELECT count(*) FILTER (WHERE {pgarray.from_epoch_us('u')} "
            "<> 'epoch'::timestamptz + u * interval '1 microsecond'), count(*) "
            "FROM generate_series(%s::bigint, %s::bigint) AS t(u)",
            [first, first + 999_999],
        ).fetchone()
        assert row == (0, 1_000_000)


@_settings
@given(
    st.lists(
        st.none() | st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00")),
        max_size=20,
    )
)
def test_text_arrays_with_quotes_braces_commas_and_backslashes(pg, values) -> None:
    assert _read(pg, pgarray.text_array(values), "text[]") == values


def test_the_words_null_and_empty_strings_stay_text(pg) -> None:
    values = ["NULL", "", " ", "{}", 'a"b', "c\\d", "e,f", None]
    assert _read(pg, pgarray.text_array(values), "text[]") == values
