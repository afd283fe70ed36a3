"""Decision 0133: the gateway's writer and rules processes price an index look-up for solid-state
storage on PostgreSQL, so that a batch's devices are found by key, not by scanning the registry."""

from __future__ import annotations

import multiprocessing

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from pingantong.gateway.ingest import dbconn


def _page_cost_of_a_child(args: tuple, answers) -> None:
    from pingantong.gateway.ingest.consumer import set_up_child

    set_up_child(*args)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW random_page_cost")
        answers.put(cursor.fetchone()[0])


def _ask_a_child() -> str:
    from pingantong.gateway.ingest.consumer import child_settings

    context = multiprocessing.get_context("spawn")  # as the gateway starts them
    answers = context.Queue()
    child = context.Process(target=_page_cost_of_a_child, args=(child_settings(), answers))
    child.start()
    try:
        return str(answers.get(timeout=120))
    finally:
        child.join(10)


@pytest.mark.django_db
def test_the_writer_and_rules_processes_sessions_use_the_solid_state_page_cost(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's planner setting; SQLite has none")
    with connection.cursor() as cursor:
        cursor.execute("SHOW random_page_cost")
        servers = cursor.fetchone()[0]
    assert servers != dbconn.DEFAULT_RANDOM_PAGE_COST, "this server already has it: the test proves nothing"
    monkeypatch.delenv("PINGANTONG_GATEWAY_PG_RANDOM_PAGE_COST", raising=False)
    assert _ask_a_child() == dbconn.DEFAULT_RANDOM_PAGE_COST
    monkeypatch.setenv("PINGANTONG_GATEWAY_PG_RANDOM_PAGE_COST", "")
    assert _ask_a_child() == servers, "empty leaves the server's"


def test_a_wrong_value_is_a_clear_error(monkeypatch):
    for wrong in ("fast", "-1", "0"):
        monkeypatch.setenv("PINGANTONG_GATEWAY_PG_RANDOM_PAGE_COST", wrong)
        with pytest.raises(ImproperlyConfigured, match="PINGANTONG_GATEWAY_PG_RANDOM_PAGE_COST"):
            dbconn.random_page_cost()
    monkeypatch.setenv("PINGANTONG_GATEWAY_PG_RANDOM_PAGE_COST", " 1.5 ")
    assert dbconn.random_page_cost() == "1.5"
