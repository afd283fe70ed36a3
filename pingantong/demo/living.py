"""The living demo: a small simulated fleet of the demo district's own terminals (issue 10).

Registered as the `demo-fleet` service, it runs beside the gateway under `pingantong run` when
PINGANTONG_DEMO is on and the demo district is loaded: a few dozen of the registered watches,
pendants and home sensors report over real sockets (positions move, steps and vitals arrive as
life signs), an SOS comes in within the first minute and then every ~10 minutes, rotating over
the wearers (every third one a fall instead), so that the alarm console always has something to show.

It talks to the gateway like any terminal would, through the TCP ports and the MQTT broker, and
so waits until the gateway's listeners accept connections. With PINGANTONG_DEMO=0 (or on a
database without demo data) it returns at once and does nothing.

Settings (environment): PINGANTONG_DEMO_FLEET (devices, default 40; 0 = off),
PINGANTONG_DEMO_INTERVAL (seconds between reports, 15), PINGANTONG_DEMO_SOS_EVERY (seconds, 600),
PINGANTONG_DEMO_FIRST_SOS (seconds after start, 30), PINGANTONG_DEMO_FLEET_HOST (127.0.0.1).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections

from .simulator.fleet import Fleet, SimDevice

log = logging.getLogger("pingantong.demo")


@dataclass(frozen=True)
class FleetSettings:
    size: int = 40
    interval_s: float = 15.0
    sos_every_s: float = 600.0
    first_sos_s: float = 30.0
    host: str = "127.0.0.1"
    watch_port: int = 5093
    jt808_port: int = 5015
    mqtt_url: str = ""
    wait_timeout_s: float = 120.0

    @classmethod
    def from_environment(cls) -> FleetSettings:
        def number(name: str, default: float) -> float:
            value = os.environ.get(name, "").strip()
            return float(value) if value else default

        mqtt_port = int(getattr(settings, "PINGANTONG_MQTT_PORT", 0) or 0)
        mqtt_url = str(getattr(settings, "MQTT_URL", "") or "") or (
            f"mqtt://127.0.0.1:{mqtt_port}" if mqtt_port else ""
        )
        return cls(
            size=int(number("PINGANTONG_DEMO_FLEET", 40)),
            interval_s=number("PINGANTONG_DEMO_INTERVAL", 15.0),
            sos_every_s=number("PINGANTONG_DEMO_SOS_EVERY", 600.0),
            first_sos_s=number("PINGANTONG_DEMO_FIRST_SOS", 30.0),
            host=os.environ.get("PINGANTONG_DEMO_FLEET_HOST", "127.0.0.1"),
            watch_port=int(getattr(settings, "PINGANTONG_WATCH_PORT", 5093) or 0),
            jt808_port=int(getattr(settings, "PINGANTONG_JT808_PORT", 5015) or 0),
            mqtt_url=mqtt_url,
        )


def demo_enabled() -> bool:
    """Demo mode is on and the demo district is in this database."""
    if not getattr(settings, "PINGANTONG_DEMO", False):
        return False
    from .loading import is_loaded

    return is_loaded()


def fleet_devices(config: FleetSettings) -> list[SimDevice]:
    """The registered devices to simulate: only protocols whose listener (or broker) is on."""
    from .simulator.registry import devices_from_database

    protocols = tuple(
        p
        for p, on in (
            ("watch", config.watch_port > 0),
            ("jt808", config.jt808_port > 0),
            ("mqtt", bool(config.mqtt_url)),
        )
        if on
    )
    if not protocols or config.size <= 0:
        return []
    return devices_from_database(config.size, protocols=protocols)


async def wait_for_listeners(config: FleetSettings, stop: asyncio.Event) -> bool:
    """Until every enabled device port accepts a TCP connection (the gateway is up), or stop."""
    ports = [p for p in (config.watch_port, config.jt808_port) if p > 0]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + config.wait_timeout_s
    pending = list(ports)
    while pending and not stop.is_set():
        port = pending[0]
        try:
            _reader, writer = await asyncio.wait_for(asyncio.open_connection(config.host, port), 2)
        except (OSError, TimeoutError):
            if loop.time() > deadline:
                log.warning("demo fleet: the gateway on port %s did not come up; not simulating", port)
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)
            continue
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
        pending.pop(0)
    return not stop.is_set()


async def inject_alarms(fleet: Fleet, config: FleetSettings, stop: asyncio.Event) -> None:
    """One SOS soon after start, then one every `sos_every_s`, rotating over the wearers."""
    wearers = [i for i, d in enumerate(fleet.devices) if d.protocol in ("watch", "jt808")]
    if not wearers:
        return
    delay, count = config.first_sos_s, 0
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        if stop.is_set():
            return
        kind = (
            "fall"
            if count % 3 == 2 and fleet.devices[wearers[count % len(wearers)]].protocol == "watch"
            else "sos"
        )
        fleet.inject(kind, wearers[count % len(wearers)])
        count += 1
        delay = config.sos_every_s


def _closing_connections(func: Callable[..., Any]) -> Callable[..., Any]:
    """`func`, then close the database connections of the worker thread it ran in. The service reads
    the database only as it starts; Django keeps a connection per thread until that thread closes it,
    so the event loop's executor thread would hold it (idle) as long as the process lives."""

    def run(*args: Any) -> Any:
        try:
            return func(*args)
        finally:
            connections.close_all()

    return run


async def run_demo_fleet(stop: asyncio.Event, config: FleetSettings | None = None) -> None:
    """The `demo-fleet` service (see the module docstring)."""
    if not await sync_to_async(_closing_connections(demo_enabled), thread_sensitive=False)():
        return
    config = config or FleetSettings.from_environment()
    devices = await sync_to_async(_closing_connections(fleet_devices), thread_sensitive=False)(config)
    if not devices:
        return
    if not await wait_for_listeners(config, stop):
        return
    fleet = Fleet(
        devices,
        host=config.host,
        watch_port=config.watch_port or 5093,
        jt808_port=config.jt808_port or 5015,
        mqtt_url=config.mqtt_url,
        interval_s=config.interval_s,
        seed=3504,
    )
    log.info(
        "demo fleet: %d terminals every %.0f s; an SOS in %.0f s, then every %.0f s",
        len(devices),
        config.interval_s,
        config.first_sos_s,
        config.sos_every_s,
    )
    injector = asyncio.create_task(inject_alarms(fleet, config, stop))
    try:
        await fleet.run(stop)
    finally:
        injector.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await injector
