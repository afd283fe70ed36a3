"""The gateway's garbage-collector settings (decision 0120): applied when a gateway starts, the
startup heap frozen, overridable and refusable through PINGANTONG_GATEWAY_GC."""

from __future__ import annotations

import gc

import pytest

from pingantong.gateway import gctune


@pytest.fixture(autouse=True)
def _restore_gc(monkeypatch):
    before = gc.get_threshold()
    monkeypatch.setattr(gctune, "_tuned", False)
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_a_gateway_freezes_its_startup_heap_and_collects_the_young_generation_rarely(monkeypatch):
    monkeypatch.delenv("PINGANTONG_GATEWAY_GC", raising=False)
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    assert gctune.tune_gc_for_gateway() == gctune.GATEWAY_THRESHOLDS
    assert gc.get_threshold() == gctune.GATEWAY_THRESHOLDS
    assert gctune.GATEWAY_THRESHOLDS[0] >= 10_000
    assert gc.get_freeze_count() > 10_000  # Django and the apps are frozen, not walked again
    frozen = gc.get_freeze_count()
    # A second gateway in the same process does not freeze again: objects made since stay
    # collectable. (The frozen count itself may shrink a little as frozen objects are freed.)
    since = [[n] for n in range(20_000)]
    gctune.tune_gc_for_gateway()
    assert gc.get_freeze_count() < frozen + len(since)


def test_the_setting_overrides_or_keeps_pythons_defaults(monkeypatch):
    gc.set_threshold(700, 10, 10)
    monkeypatch.setenv("PINGANTONG_GATEWAY_GC", "default")
    assert gctune.tune_gc_for_gateway() is None
    assert gc.get_threshold() == (700, 10, 10)
    monkeypatch.setenv("PINGANTONG_GATEWAY_GC", "20000,5,50")
    assert gctune.tune_gc_for_gateway() == (20000, 5, 50)
    assert gc.get_threshold() == (20000, 5, 50)
    monkeypatch.setenv("PINGANTONG_GATEWAY_GC", "lots")
    with pytest.raises(ValueError, match="t0,t1,t2"):
        gctune.tune_gc_for_gateway()


def test_starting_a_gateway_applies_them(monkeypatch):
    from pingantong.gateway.tests.gwtools import running_gateway

    monkeypatch.delenv("PINGANTONG_GATEWAY_GC", raising=False)
    gc.set_threshold(700, 10, 10)
    with running_gateway(ports={"jt808": 0}, recover=False, downlinks=False):
        assert gc.get_threshold() == gctune.GATEWAY_THRESHOLDS


def _switch_interval_of_a_child(args: tuple, answers) -> None:
    from pingantong.gateway.ingest.consumer import set_up_child

    set_up_child(*args)
    import sys

    answers.put(sys.getswitchinterval())


@pytest.mark.django_db
def test_the_gateways_writer_and_rules_processes_take_its_switch_interval(monkeypatch):
    """Decision 0131: the writer process's SOS thread must not wait Python's 5 ms for the GIL after
    each database call while its batch thread works."""
    import multiprocessing

    from pingantong.gateway.ingest.consumer import child_settings

    monkeypatch.delenv("PINGANTONG_GATEWAY_SWITCH_INTERVAL", raising=False)
    context = multiprocessing.get_context("spawn")  # as the gateway starts them
    answers = context.Queue()
    child = context.Process(target=_switch_interval_of_a_child, args=(child_settings(), answers))
    child.start()
    try:
        assert answers.get(timeout=120) == pytest.approx(gctune.DEFAULT_SWITCH_INTERVAL)
    finally:
        child.join(10)
    assert gctune.DEFAULT_SWITCH_INTERVAL < 0.005  # Python's default
