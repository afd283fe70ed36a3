"""Home sensors over MQTT (S05, S25): zigbee2mqtt-style payloads mapped to `DeviceEvent`s.

Topic contract (docs/gateway.md; FORMATS.md §6):

* ``pat/v1/<site_id>/sensor/<device_id>/state``: retained JSON state,
  ``{"ts", "type": door|smoke|gas|water|pir|sos, "alarm", "contact"?, "occupancy"?, "action"?,
  "battery"?, "battery_low"?, "tamper"?, "lqi"?, "event_id"?, "raw"?}``
* ``pat/v1/<site_id>/sensor/<device_id>/event``: the same shape for edge-triggered alarms (QoS 1).
* ``pat/v1/<site_id>/sensor/<device_id>/availability``: ``online``/``offline`` (not stored).
* ``zigbee2mqtt/<friendly_name>``: a zigbee2mqtt bridge's own state topic, read as-is (``contact``,
  ``smoke``, ``gas``/``gas_alarm_1``, ``water_leak``, ``occupancy``, ``action``, ``battery``,
  ``battery_low``, ``tamper``, ``linkquality``); the friendly name is the device identity.

The device identity in the registry is `<device_id>` (protocol ``mqtt``). Messages are stored
through the same ingestor as terminal frames, and acknowledged to the broker (QoS 1 PUBACK) only
after the commit, so a broker redelivers what we did not store.

Scaled mode (several gateway processes on one external broker, `MQTT_URL`): the same filters are
subscribed as a shared subscription, ``$share/<group>/<filter>`` (group `PINGANTONG_MQTT_SHARE_GROUP`,
default ``pingantong``; empty turns sharing off), so the broker hands each message to one gateway of
the group instead of every gateway storing it. Topics and payloads are unchanged for publishers.
Mosquitto keeps routing a group's share to a member's *offline* persistent session, so a gateway
keeps a persistent session only under a stable name (`PINGANTONG_GATEWAY_NODE`); with the default
per-process name it connects with a clean session (decision 0100). The built-in broker (embedded
mode, one gateway) has no shared subscriptions and is subscribed to plainly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from django.conf import settings

from pingantong.gateway.events import DeviceEvent
from pingantong.gateway.ingest import FrameIn, Ingestor, StorageError

log = logging.getLogger("pingantong.gateway.mqtt")

PROTOCOL = "mqtt"
PAT_PREFIX = "pat/v1"
SUBSCRIPTIONS = (f"{PAT_PREFIX}/+/sensor/+/state", f"{PAT_PREFIX}/+/sensor/+/event")
DEFAULT_SHARE_GROUP = "pingantong"

# zigbee2mqtt `action` values that mean the button was pressed for help (model-dependent, §6).
SOS_ACTIONS = frozenset({"sos", "emergency", "single", "double", "hold", "long", "press", "panic"})
LOW_BATTERY_PCT = 15

_TYPE_ALARM = {
    "smoke": "smoke",
    "gas": "gas",
    "water": "water_leak",
    "water_leak": "water_leak",
    "sos": "sos",
}
_FLAG_ALARMS = (
    ("smoke", "smoke"),
    ("gas", "gas"),
    ("gas_alarm_1", "gas"),
    ("gas_alarm_2", "gas"),
    ("water_leak", "water_leak"),
    ("tamper", "tamper"),
    ("sos", "sos"),
)
_STATE_KEYS = (
    "type",
    "alarm",
    "contact",
    "occupancy",
    "action",
    "battery",
    "battery_low",
    "tamper",
    "event_id",
)


class PayloadError(ValueError):
    """A message that is not a sensor report we understand."""


def _infer_type(payload: dict[str, Any]) -> str:
    for key, kind in (
        ("contact", "door"),
        ("smoke", "smoke"),
        ("gas", "gas"),
        ("gas_alarm_1", "gas"),
        ("water_leak", "water"),
        ("occupancy", "pir"),
        ("action", "sos"),
    ):
        if key in payload:
            return kind
    return ""


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def identity_of(topic: str, z2m_base: str = "zigbee2mqtt") -> tuple[str, str] | None:
    """(identity, topic style) for a sensor topic, None for topics that are not sensor reports."""
    parts = topic.split("/")
    if (
        len(parts) == 6
        and "/".join(parts[:2]) == PAT_PREFIX
        and parts[3] == "sensor"
        and parts[5] in ("state", "event")
    ):
        return parts[4], "pat"
    if topic.startswith(z2m_base + "/"):
        name = topic[len(z2m_base) + 1 :]
        if not name or name.startswith("bridge/") or name.endswith(("/set", "/get", "/availability")):
            return None
        return name, "z2m"
    return None


def decode_sensor_message(topic: str, payload: bytes, *, z2m_base: str = "zigbee2mqtt") -> DeviceEvent | None:
    """One MQTT message → one DeviceEvent (None when the topic is not a sensor report).

    Raises PayloadError for a sensor topic whose payload is not a JSON object.
    """
    found = identity_of(topic, z2m_base)
    if found is None:
        return None
    identity, style = found
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise PayloadError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PayloadError("payload is not a JSON object")
    kind_of_sensor = str(data.get("type") or _infer_type(data))
    alarms: set[str] = set()
    if data.get("alarm") is True and kind_of_sensor in _TYPE_ALARM:
        alarms.add(_TYPE_ALARM[kind_of_sensor])
    for key, alarm in _FLAG_ALARMS:
        if data.get(key) is True:
            alarms.add(alarm)
    action = data.get("action")
    if isinstance(action, str) and action.lower() in SOS_ACTIONS and kind_of_sensor in ("sos", ""):
        alarms.add("sos")
    battery = data.get("battery")
    battery_pct = int(battery) if isinstance(battery, int | float) and 0 <= battery <= 100 else None
    if data.get("battery_low") is True or (battery_pct is not None and battery_pct < LOW_BATTERY_PCT):
        alarms.add("low_battery")
    sensor = {k: data[k] for k in _STATE_KEYS if k in data}
    sensor["type"] = kind_of_sensor
    if "linkquality" in data or "lqi" in data:
        sensor["lqi"] = data.get("lqi", data.get("linkquality"))
    sensor["topic"] = topic
    serious = alarms - {"low_battery"}
    return DeviceEvent(
        protocol=PROTOCOL,
        device_id=identity[:64],
        message=f"{style}:{kind_of_sensor or 'state'}",
        kind="alarm" if serious else "sensor",
        device_time=_time(data.get("ts") or data.get("last_seen")),
        alarms=sorted(alarms),
        battery_pct=battery_pct,
        signal_pct=None,
        sensor=sensor,
        extra={"raw": data} if "raw" not in data else {"raw": data["raw"]},
    )


class MqttService:
    """Subscribes to the sensor topics on MQTT_URL, or on the built-in broker it starts."""

    def __init__(
        self,
        ingestor: Ingestor,
        *,
        url: str | None = None,
        broker_port: int | None = None,
        share_group: str | None = None,
        persistent_session: bool | None = None,
    ) -> None:
        self.ingestor = ingestor
        self.url = url if url is not None else str(getattr(settings, "MQTT_URL", "") or "")
        self.broker_port = (
            broker_port if broker_port is not None else int(getattr(settings, "PINGANTONG_MQTT_PORT", 0))
        )
        self.z2m_base = str(getattr(settings, "PINGANTONG_Z2M_BASE", "zigbee2mqtt"))
        # Shared subscriptions only on an external broker (several gateways); see the module docstring.
        group = (
            share_group
            if share_group is not None
            else str(getattr(settings, "PINGANTONG_MQTT_SHARE_GROUP", DEFAULT_SHARE_GROUP))
        )
        self.share_group = group.strip() if self.url else ""
        if "/" in self.share_group or "+" in self.share_group or "#" in self.share_group:
            raise ValueError(f"MQTT share group may not contain '/', '+' or '#': {self.share_group!r}")
        stable_name = bool(getattr(settings, "PINGANTONG_GATEWAY_NODE", ""))
        self.persistent_session = (
            persistent_session if persistent_session is not None else (not self.share_group or stable_name)
        )
        self.received = 0
        self.stored = 0
        self.malformed = 0
        self.broker: Any = None
        self.ready = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        if not self.url and self.broker_port:
            try:
                self.broker = await start_builtin_broker(self.broker_port)
            except Exception as exc:  # a busy port must not take the TCP listeners down
                # Typically a broker (Mosquitto) already listens there: use it instead of our own.
                log.warning(
                    "built-in MQTT broker could not start on port %s (%s); subscribing to the broker "
                    "already listening there. Set PINGANTONG_MQTT_PORT=0 or MQTT_URL to choose.",
                    self.broker_port,
                    exc,
                )
                self.broker = None
            self.url = f"mqtt://127.0.0.1:{self.broker_port}"
            self.share_group = ""  # one embedded gateway; amqtt has no shared subscriptions
            self.persistent_session = True
        if self.url:
            self._task = asyncio.create_task(self._run(), name="mqtt")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self.broker is not None:
            with contextlib.suppress(Exception):
                await self.broker.shutdown()

    async def _run(self) -> None:
        delay = 1.0
        while True:
            try:
                await self._subscribe_and_ingest()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.ready.clear()
                log.warning("MQTT connection to %s lost (%r); retrying in %.0f s", self.url, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def _subscribe_and_ingest(self) -> None:
        import aiomqtt

        parsed = urlparse(self.url)
        async with aiomqtt.Client(
            parsed.hostname or "127.0.0.1",
            port=parsed.port or 1883,
            username=parsed.username,
            password=parsed.password,
            identifier=f"pingantong-gateway-{self.ingestor.node}"[:64],
            clean_session=not self.persistent_session,
        ) as client:
            paho = client._client
            paho._manual_ack = True  # PUBACK only after our commit (paho's manual_ack mode)
            # A persistent session keeps the subscriptions of its previous run: drop the other
            # style's filters, or a node upgraded to shared subscriptions would still receive
            # every message through its old plain ones (and the other way round).
            stale = [
                f for f in self.topic_filters(shared=not self.share_group) if f not in self.topic_filters()
            ]
            if self.persistent_session and stale:
                await client.unsubscribe(stale)
            for topic in self.topic_filters():
                await client.subscribe(topic, qos=1)
            self.ready.set()
            async for message in client.messages:
                await self.handle(str(message.topic), bytes(message.payload or b""))
                if message.qos > 0:
                    paho.ack(message.mid, message.qos)

    def topic_filters(self, *, shared: bool | None = None) -> list[str]:
        """What this gateway subscribes to: the contract's filters, shared within the group if any
        (`shared` asks for one style regardless; the group defaults to the standard one)."""
        filters = [*SUBSCRIPTIONS, f"{self.z2m_base}/#"]
        group = self.share_group or DEFAULT_SHARE_GROUP
        if shared if shared is not None else bool(self.share_group):
            return [f"$share/{group}/{f}" for f in filters]
        return filters

    async def handle(self, topic: str, payload: bytes) -> bool:
        """Store one message; True once committed (or when there was nothing to store)."""
        self.received += 1
        try:
            event = decode_sensor_message(topic, payload, z2m_base=self.z2m_base)
        except PayloadError as exc:
            self.malformed += 1
            frame = FrameIn(
                PROTOCOL, topic.encode() + b"\n" + payload, [], peer=self.url, identity=None, error=str(exc)
            )
            event = None
        else:
            if event is None:
                return True
            frame = FrameIn(
                PROTOCOL, topic.encode() + b"\n" + payload, [event], peer=self.url, identity=event.device_id
            )
        while True:
            try:
                await self.ingestor.submit([frame])
                self.stored += 1
                return True
            except StorageError:
                # Not acknowledged to the broker either: keep trying (a broker would redeliver anyway).
                await asyncio.sleep(1.0)


async def start_builtin_broker(port: int, host: str = "127.0.0.1") -> Any:
    """The embedded-mode broker (amqtt) inside the gateway's event loop."""
    from amqtt.broker import Broker

    broker = Broker(
        {
            "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}"}},
            "sys_interval": 0,
            "auth": {"allow-anonymous": True},
            "topic-check": {"enabled": False},
        }
    )
    await broker.start()
    return broker
