"""The living demo: the `demo-fleet` service runs only over demo data in demo mode, waits for the
gateway, and then its terminals' positions, life signs and an SOS reach the database over real
sockets (against in-test gateway listeners on ephemeral ports)."""

from __future__ import annotations

import asyncio
import time

import pytest

from pingantong.core import services
from pingantong.demo.living import FleetSettings, run_demo_fleet, wait_for_listeners
from pingantong.testing.network import free_port


def test_demo_fleet_is_a_registered_service():
    assert "demo-fleet" in services.all_services()


@pytest.mark.django_db
def test_returns_at_once_when_demo_mode_is_off(settings):
    from pingantong.demo.models import DemoLoad

    settings.PINGANTONG_DEMO = False
    DemoLoad.objects.create(seed=1)
    stop = asyncio.Event()
    asyncio.run(asyncio.wait_for(run_demo_fleet(stop), 5))  # would run until stop if it started


@pytest.mark.django_db
def test_returns_at_once_without_demo_data(settings):
    settings.PINGANTONG_DEMO = True
    stop = asyncio.Event()
    asyncio.run(asyncio.wait_for(run_demo_fleet(stop), 5))


def test_waits_until_the_gateway_accepts_connections():
    port = free_port()
    config = FleetSettings(watch_port=port, jt808_port=0, wait_timeout_s=10)

    async def scenario() -> tuple[bool, float]:
        stop = asyncio.Event()
        started = time.monotonic()
        waiter = asyncio.create_task(wait_for_listeners(config, stop))
        await asyncio.sleep(1.0)
        assert not waiter.done()  # nothing listens yet: still waiting
        server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", port)
        async with server:
            ok = await asyncio.wait_for(waiter, 5)
        return ok, time.monotonic() - started

    ok, waited = asyncio.run(scenario())
    assert ok and waited >= 1.0


def test_gives_up_when_the_gateway_never_comes():
    config = FleetSettings(watch_port=free_port(), jt808_port=0, wait_timeout_s=0.5)
    assert asyncio.run(wait_for_listeners(config, asyncio.Event())) is False


@pytest.mark.django_db(transaction=True)
def test_fleet_positions_life_signs_and_an_early_sos_reach_the_database(settings):
    from pingantong.demo.models import DemoLoad
    from pingantong.devices.actions import register_device
    from pingantong.devices.models import DeviceEventRecord, DeviceState, PositionRecord
    from pingantong.gateway.tests.gwtools import ensure_reference_data, running_gateway

    ensure_reference_data()
    settings.PINGANTONG_DEMO = True
    DemoLoad.objects.create(seed=1)
    watch = register_device(protocol="watch", identity="3504000001", device_type="watch")
    pendant = register_device(protocol="jt808", identity="144040400001", device_type="pendant")
    with running_gateway() as (gateway, ports, lt):
        config = FleetSettings(
            size=5,
            interval_s=0.5,
            first_sos_s=1.0,
            sos_every_s=3600,
            watch_port=ports["watch"],
            jt808_port=ports["jt808"],
            mqtt_url="",
            wait_timeout_s=10,
        )
        stop = lt.run(_event())
        service = asyncio.run_coroutine_threadsafe(run_demo_fleet(stop, config), lt.loop)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            sos = [r for r in DeviceEventRecord.objects.filter(device=watch) if "sos" in (r.alarms or [])]
            if sos and PositionRecord.objects.filter(device=pendant).exists():
                break
            time.sleep(0.3)
        lt.loop.call_soon_threadsafe(stop.set)
        service.result(10)
        lt.run(gateway.ingestor.drain_rules())
    assert sos, "the first SOS (on the first wearer, after 1 s) was not stored"
    assert PositionRecord.objects.filter(device=watch).count() >= 1
    assert PositionRecord.objects.filter(device=pendant).count() >= 1
    assert DeviceState.objects.get(device=watch).last_life_sign_at is not None
    from pingantong.alarms.models import Alarm

    assert Alarm.objects.filter(alarm_type="sos").exists()  # the alarm console's queue has it


async def _event() -> asyncio.Event:
    return asyncio.Event()
