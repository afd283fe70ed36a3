"""Decision 0137: a gateway's bulk work (the rules process, the writer process's batches) runs at
a lower CPU priority than an SOS's path (the listeners' event loop, the writer's urgent thread)."""

from __future__ import annotations

import os
import sys
import threading

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from pingantong.gateway import priority
from pingantong.gateway.ingest import Ingestor
from pingantong.gateway.tests.gwtools import ensure_reference_data, running_gateway
from pingantong.testing.waiting import wait_for

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice values are Linux's")


def _nice(tid: int) -> int:
    """A thread's nice value, from /proc (field 19 of its stat line, after the command's name)."""
    with open(f"/proc/{tid}/stat") as fh:
        return int(fh.read().rsplit(")", 1)[1].split()[16])


def _threads(pid: int) -> dict[int, int]:
    """Each thread of process `pid` and its nice value."""
    return {int(tid): _nice(int(tid)) for tid in os.listdir(f"/proc/{pid}/task")}


def test_the_setting_is_checked(monkeypatch):
    monkeypatch.delenv("PINGANTONG_GATEWAY_BULK_NICE", raising=False)
    assert priority.bulk_nice("postgresql") == 10
    assert priority.bulk_nice("sqlite") == 0, "lowered, the SOS tail on SQLite was worse"
    monkeypatch.setenv("PINGANTONG_GATEWAY_BULK_NICE", " 0 ")
    assert priority.bulk_nice("postgresql") == 0
    monkeypatch.setenv("PINGANTONG_GATEWAY_BULK_NICE", "5")
    assert priority.bulk_nice("sqlite") == 5
    for wrong in ("low", "-1", "20", "2.5"):
        monkeypatch.setenv("PINGANTONG_GATEWAY_BULK_NICE", wrong)
        with pytest.raises(ImproperlyConfigured, match="PINGANTONG_GATEWAY_BULK_NICE"):
            priority.bulk_nice()


def test_a_wrong_value_stops_the_gateway_at_start(monkeypatch):
    import asyncio

    monkeypatch.setenv("PINGANTONG_GATEWAY_BULK_NICE", "lowest")
    with pytest.raises(ImproperlyConfigured, match="PINGANTONG_GATEWAY_BULK_NICE"):
        asyncio.run(Ingestor(node="bad-nice", rules="process", writer="process").start())


def test_only_the_calling_thread_and_the_threads_it_starts_afterwards_are_lowered(monkeypatch):
    monkeypatch.setenv("PINGANTONG_GATEWAY_BULK_NICE", "10")
    base = _nice(threading.get_native_id())
    seen: dict[str, int] = {}
    started = threading.Event()
    release = threading.Event()

    def before() -> None:
        seen["before"] = threading.get_native_id()
        started.set()
        release.wait(10)

    def bulk() -> None:
        first = threading.Thread(target=before)
        first.start()
        started.wait(10)
        seen["bulk_nice"] = priority.lower_this_thread()
        seen["bulk"] = _nice(threading.get_native_id())
        seen["before_nice"] = _nice(seen["before"])
        after = threading.Thread(target=lambda: seen.__setitem__("after", _nice(threading.get_native_id())))
        after.start()
        after.join()
        release.set()
        first.join()

    worker = threading.Thread(target=bulk)
    worker.start()
    worker.join()
    expected = min(19, base + 10)
    assert seen["bulk"] == seen["bulk_nice"] == expected
    assert seen["after"] == expected, "a thread started afterwards takes its creator's priority"
    assert seen["before_nice"] == base, "a thread started before keeps its own"
    assert _nice(threading.get_native_id()) == base, "nothing else in the process moved"


@pytest.mark.django_db(transaction=True)
def test_the_rules_and_batch_writer_run_below_the_listeners_and_the_urgent_thread(monkeypatch):
    """By default on PostgreSQL; on SQLite only when asked (there the default leaves them)."""
    if connection.vendor == "postgresql":
        monkeypatch.delenv("PINGANTONG_GATEWAY_BULK_NICE", raising=False)
    else:
        monkeypatch.setenv("PINGANTONG_GATEWAY_BULK_NICE", "10")
    ensure_reference_data()
    base = _nice(threading.get_native_id())
    lowered = min(19, base + 10)
    ingestor = Ingestor(node="nice-node", rules="process", writer="process")
    with running_gateway(ingestor=ingestor, ports={"jt808": 0}) as (gateway, _ports, _lt):
        rules = gateway.ingestor.rules_process.pid
        writer = gateway.ingestor.writer_process.pid
        # Each child lowers itself once it has set Django up.
        wait_for(lambda: set(_threads(rules).values()) == {lowered} and _nice(writer) == lowered)
        writer_threads = _threads(writer)
        assert writer_threads.pop(writer) == lowered, "the writer's batch thread"
        # The others, the urgent thread among them on PostgreSQL (it stores an SOS beside the
        # batches), were started before the lowering and keep the listeners' priority.
        assert set(writer_threads.values()) == {base}, writer_threads
        if connection.vendor == "postgresql":
            assert len(writer_threads) >= 1
        assert set(_threads(os.getpid()).values()) == {base}, "the listeners' process is left as it was"


@pytest.mark.django_db(transaction=True)
def test_on_sqlite_the_default_leaves_the_priorities(monkeypatch):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite default")
    monkeypatch.delenv("PINGANTONG_GATEWAY_BULK_NICE", raising=False)
    ensure_reference_data()
    base = _nice(threading.get_native_id())
    ingestor = Ingestor(node="sqlite-nice", rules="process", writer="process")
    with running_gateway(ingestor=ingestor, ports={"jt808": 0}) as (gateway, _ports, _lt):
        ingestor = gateway.ingestor
        for pid in (ingestor.rules_process.pid, ingestor.writer_process.pid):
            assert set(_threads(pid).values()) == {base}
