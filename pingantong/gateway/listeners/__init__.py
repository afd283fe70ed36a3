"""The device gateway of one process: ingestor, rules stage, TCP listeners, MQTT, downlinks.

`start_gateway(stop)` is the service `pingantong run` starts (registered in apps.py); tests and
the benchmark build a `Gateway` themselves with port 0 (an ephemeral port).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from typing import Any

from django.conf import settings

from pingantong.devices.models.registry import default_tz_offset_minutes
from pingantong.gateway.gctune import set_switch_interval, tune_gc_for_gateway
from pingantong.gateway.ingest import Ingestor, shares_writer_thread
from pingantong.gateway.listeners.directory import DeviceDirectory
from pingantong.gateway.listeners.tcp import ListenerLimits, Session, TcpListener

log = logging.getLogger("pingantong.gateway")

__all__ = ["Gateway", "ListenerLimits", "Session", "TcpListener", "node_id", "start_gateway"]


def node_id() -> str:
    """This gateway process's name in DeviceState.connected_node (unique per host and process)."""
    return str(getattr(settings, "PINGANTONG_GATEWAY_NODE", "") or f"{socket.gethostname()}:{os.getpid()}")[
        :64
    ]


class Gateway:
    """Everything one gateway process runs; `ports` maps protocol → port (0 = ephemeral, None = off)."""

    def __init__(
        self,
        ports: dict[str, int | None],
        *,
        host: str = "0.0.0.0",
        node: str | None = None,
        limits: ListenerLimits | None = None,
        ingestor: Ingestor | None = None,
        downlinks: bool = True,
        mqtt: bool = False,
        recover: bool = True,
    ) -> None:
        self.node = node or node_id()
        self.ports = ports
        self.host = host
        self.limits = limits
        self.ingestor = ingestor or Ingestor(node=self.node)
        shared = self.ingestor.db_executor if shares_writer_thread() else None
        self.directory = DeviceDirectory(self.node, pool=shared)
        self.listeners: dict[str, TcpListener] = {}
        self.want_downlinks = downlinks
        self.want_mqtt = mqtt
        self.recover = recover
        self._aux: list[Any] = []

    async def start(self) -> dict[str, int]:
        from pingantong.gateway.pipeline import recover_unprocessed

        # The ingest writer thread shares the GIL with the busy event loop: after each database
        # call it waits until the loop lets go of the GIL, up to Python's switch interval (5 ms).
        # A batch makes ~10 such calls, so at load the interval, not the work, set the batch time.
        # PINGANTONG_GATEWAY_SWITCH_INTERVAL (seconds; 0 = leave Python's), decision 0093.
        set_switch_interval()
        tune_gc_for_gateway()

        await self.ingestor.start()
        if self.recover and self.ingestor.rules_process is None:  # a rules process recovers by itself
            loop = asyncio.get_running_loop()
            count = await loop.run_in_executor(
                self.ingestor._rules,
                lambda: recover_unprocessed(self.ingestor.engine, gateway_node=self.node),
            )
            if count:
                log.warning("replayed %d stored but unprocessed events through the rules", count)
        tz = default_tz_offset_minutes()
        for protocol, port in self.ports.items():
            if port is None:
                continue
            listener = TcpListener(
                protocol,
                self.ingestor,
                self.directory,
                host=self.host,
                port=port,
                limits=self.limits,
                default_tz=tz,
            )
            await listener.start()
            self.listeners[protocol] = listener
        if self.want_downlinks and self.listeners:
            from pingantong.gateway.downlink import DownlinkDispatcher

            dispatcher = DownlinkDispatcher(self)
            await dispatcher.start()
            self._aux.append(dispatcher)
        if self.want_mqtt:
            from pingantong.gateway.mqtt import MqttService

            mqtt = MqttService(self.ingestor)
            await mqtt.start()
            self._aux.append(mqtt)
        return {p: listener.port for p, listener in self.listeners.items()}

    async def stop(self) -> None:
        for aux in reversed(self._aux):
            await aux.stop()
        for listener in self.listeners.values():
            await listener.stop()
        await self.directory.close()
        await self.ingestor.stop()


def _port(value: Any) -> int | None:
    port = int(value or 0)
    return port if port > 0 else None


async def start_gateway(stop: asyncio.Event) -> None:
    """The `gateway` service: listeners on PINGANTONG_WATCH_PORT / PINGANTONG_JT808_PORT (0 = off),
    and MQTT (an external broker at MQTT_URL, else the built-in broker on PINGANTONG_MQTT_PORT)."""
    ports = {
        "watch": _port(getattr(settings, "PINGANTONG_WATCH_PORT", 5093)),
        "jt808": _port(getattr(settings, "PINGANTONG_JT808_PORT", 5015)),
    }
    mqtt = bool(getattr(settings, "MQTT_URL", "")) or bool(
        _port(getattr(settings, "PINGANTONG_MQTT_PORT", 0))
    )
    gateway = Gateway(ports, host=os.environ.get("PINGANTONG_GATEWAY_HOST", "0.0.0.0"), mqtt=mqtt)
    try:
        await gateway.start()
    except BaseException:
        # Release whatever did start (bound ports, the writer thread) so that the supervisor's
        # restart can bind again instead of failing with "address already in use" forever.
        await gateway.stop()
        raise
    try:
        await stop.wait()
    finally:
        await gateway.stop()
