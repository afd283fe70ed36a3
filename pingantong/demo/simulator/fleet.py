"""A deterministic simulated fleet over real sockets: watches, JT/T 808 pendants, MQTT home sensors.

Each terminal lives a day: asleep at night (no steps), walks near home in the morning and
afternoon (steps, positions drifting within a few hundred metres), vitals with realistic variation.
Events can be injected (SOS, fall, removal, smoke, silence, leaving the safe area, a blind-area
batch). The same seed gives the same fleet, routes and events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from . import frames
from .frames import Fix

log = logging.getLogger("pingantong.simulate")

SANYUAN_CENTRE = (26.2634, 117.6390)  # 三元区, WGS-84
INJECTABLE = ("sos", "fall", "removed", "smoke", "silence", "leave_area", "blind_batch", "low_battery")


@dataclass
class SimDevice:
    protocol: str  # watch | jt808 | mqtt
    device_id: str
    home_lat: float
    home_lon: float
    sensor_type: str = ""  # for mqtt: door | smoke | gas | water | pir | sos
    site_id: str = "demo"


@dataclass
class Stats:
    sent: int = 0
    replies: int = 0
    connects: int = 0
    errors: int = 0
    injected: list[str] = field(default_factory=list)
    commands_received: int = 0


@dataclass
class Injection:
    kind: str
    device_index: int
    after_s: float


def parse_injection(text: str) -> Injection:
    """`sos@3:20` → an SOS from device #3 twenty seconds after start; `sos` → device 0 at once."""
    kind, _, rest = text.partition("@")
    if kind not in INJECTABLE:
        raise ValueError(f"unknown event {kind!r}; choose from {', '.join(INJECTABLE)}")
    index_s, _, after_s = rest.partition(":")
    try:
        return Injection(kind=kind, device_index=int(index_s or 0), after_s=float(after_s or 0))
    except ValueError as exc:
        raise ValueError(f"bad injection {text!r}: use EVENT@DEVICE_INDEX:SECONDS") from exc


def make_fleet(count: int, seed: int, *, mix: Iterable[str] = ("watch", "jt808", "mqtt")) -> list[SimDevice]:
    """`count` devices around 三元区 with stable ids derived from the seed."""
    rng = random.Random(seed)
    kinds = list(mix)
    fleet = []
    for index in range(count):
        protocol = kinds[index % len(kinds)]
        lat = SANYUAN_CENTRE[0] + rng.uniform(-0.08, 0.08)
        lon = SANYUAN_CENTRE[1] + rng.uniform(-0.08, 0.08)
        if protocol == "watch":
            device_id = f"88{seed % 100:02d}{index:06d}"
        elif protocol == "jt808":
            device_id = f"1{seed % 100:02d}{index:08d}"
        else:
            device_id = f"0x00158d{seed % 256:02x}{index:06x}"
        sensor = ("door", "pir", "smoke", "water", "gas", "sos")[index % 6] if protocol == "mqtt" else ""
        fleet.append(SimDevice(protocol, device_id, round(lat, 6), round(lon, 6), sensor))
    return fleet


class Persona:
    """One elderly person's day, seeded: when she sleeps, walks, and what her vitals are."""

    def __init__(self, device: SimDevice, seed: int) -> None:
        self.rng = random.Random(f"{seed}:{device.device_id}")
        self.device = device
        self.steps = 0
        self.battery = self.rng.randint(60, 100)
        self.resting_hr = self.rng.randint(62, 82)
        self.systolic = self.rng.randint(118, 150)
        self.resting_spo2 = self.rng.randint(94, 99)
        self.angle = self.rng.uniform(0, 2 * math.pi)
        self.away = False  # set by a leave_area injection

    def awake(self, now: datetime) -> bool:
        local_hour = (now.hour + 8) % 24
        return 6 <= local_hour < 22

    def position(self, now: datetime) -> Fix:
        """Near home; walking in daylight (up to ~300 m), far away after leave_area (~3 km)."""
        local_hour = (now.hour + 8) % 24
        walking = local_hour in (7, 8, 9, 15, 16, 17)
        self.angle += self.rng.uniform(-0.6, 0.6)
        radius_m = (
            3000.0 if self.away else (self.rng.uniform(50, 300) if walking else self.rng.uniform(0, 15))
        )
        dlat = radius_m * math.cos(self.angle) / 111_320
        dlon = radius_m * math.sin(self.angle) / (111_320 * math.cos(math.radians(self.device.home_lat)))
        return Fix(
            latitude=round(self.device.home_lat + dlat, 6),
            longitude=round(self.device.home_lon + dlon, 6),
            valid=self.rng.random() > 0.05,
            speed_kmh=round(self.rng.uniform(2, 5), 1) if walking else 0.0,
            course_deg=int(math.degrees(self.angle)) % 360,
            altitude_m=self.rng.randint(140, 190),
            satellites=self.rng.randint(4, 12),
        )

    def tick(self, now: datetime) -> None:
        if self.awake(now):
            self.steps += self.rng.randint(0, 120)
        self.battery = max(5, self.battery - (1 if self.rng.random() < 0.05 else 0))
        if (now.hour + 8) % 24 == 0 and now.minute == 0:
            self.steps = 0

    def heart_rate(self) -> int:
        return self.resting_hr + self.rng.randint(-6, 12)

    def spo2(self) -> int:
        return min(100, self.resting_spo2 + self.rng.randint(-2, 1))

    def body_temperature(self) -> float:
        return round(self.rng.gauss(36.5, 0.2), 1)

    def blood_pressure(self) -> tuple[int, int]:
        systolic = self.systolic + self.rng.randint(-8, 8)
        return systolic, int(systolic * 0.62) + self.rng.randint(-4, 4)


class Fleet:
    def __init__(
        self,
        devices: list[SimDevice],
        *,
        host: str = "127.0.0.1",
        watch_port: int = 5093,
        jt808_port: int = 5015,
        mqtt_url: str = "",
        interval_s: float = 30.0,
        seed: int = 1,
        injections: list[Injection] | None = None,
    ) -> None:
        self.devices = devices
        self.host = host
        self.ports = {"watch": watch_port, "jt808": jt808_port}
        self.mqtt_url = mqtt_url
        self.interval_s = interval_s
        self.seed = seed
        self.injections = injections or []
        self.stats = Stats()
        self.pending: dict[int, list[str]] = {}
        self.silenced: set[int] = set()

    async def run(self, stop: asyncio.Event, duration_s: float | None = None) -> Stats:
        tasks = [asyncio.create_task(self._device(i, d, stop)) for i, d in enumerate(self.devices)]
        tasks.append(asyncio.create_task(self._injector(stop)))
        try:
            if duration_s is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=duration_s)
                stop.set()
            else:
                await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return self.stats

    def inject(self, kind: str, index: int) -> str:
        """Queue an event for device `index`; it goes out with the device's next report."""
        if kind not in INJECTABLE:
            raise ValueError(f"unknown event {kind!r}; choose from {', '.join(INJECTABLE)}")
        index = index % max(1, len(self.devices))
        self.pending.setdefault(index, []).append(kind)
        label = f"{kind}@{self.devices[index].device_id}"
        self.stats.injected.append(label)
        log.info("inject %s", label)
        return label

    async def _injector(self, stop: asyncio.Event) -> None:
        started = asyncio.get_running_loop().time()
        for injection in sorted(self.injections, key=lambda i: i.after_s):
            delay = started + injection.after_s - asyncio.get_running_loop().time()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=delay)
            if stop.is_set():
                return
            self.inject(injection.kind, injection.device_index)

    async def _sleep(self, stop: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)

    async def _device(self, index: int, device: SimDevice, stop: asyncio.Event) -> None:
        persona = Persona(device, self.seed)
        # Spread the fleet's first messages over one interval, deterministically.
        await self._sleep(stop, persona.rng.uniform(0, min(self.interval_s, 5.0)))
        backoff = 1.0
        while not stop.is_set():
            try:
                if device.protocol == "mqtt":
                    await self._mqtt_device(index, device, persona, stop)
                else:
                    await self._tcp_device(index, device, persona, stop)
                backoff = 1.0
            except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
                self.stats.errors += 1
                log.debug("%s: %s; reconnecting in %.0f s", device.device_id, exc, backoff)
                await self._sleep(stop, backoff)
                backoff = min(backoff * 2, 30.0)

    async def _tcp_device(self, index: int, device: SimDevice, persona: Persona, stop: asyncio.Event) -> None:
        reader, writer = await asyncio.open_connection(self.host, self.ports[device.protocol])
        self.stats.connects += 1
        serial = 0
        reader_task = asyncio.create_task(self._read_replies(device, reader, writer))
        try:
            if device.protocol == "jt808":
                serial += 1
                await self._send(writer, frames.jt808_register(device.device_id, serial))
                await asyncio.sleep(0.2)
                serial += 1
                await self._send(writer, frames.jt808_auth(device.device_id, serial, device.device_id))
            else:
                await self._send(writer, frames.watch_lk(device.device_id, battery=persona.battery))
            beat = 0
            while not stop.is_set():
                now = datetime.now(UTC)
                persona.tick(now)
                for kind in self.pending.pop(index, []):
                    serial += 1
                    await self._inject_tcp(kind, index, device, persona, writer, now, serial)
                if index not in self.silenced:
                    serial += 1
                    await self._send(writer, self._periodic_frame(device, persona, now, serial, beat))
                beat += 1
                await self._sleep(stop, self.interval_s)
        finally:
            reader_task.cancel()
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _periodic_frame(
        self, device: SimDevice, persona: Persona, now: datetime, serial: int, beat: int
    ) -> bytes:
        fix = persona.position(now)
        if device.protocol == "jt808":
            if beat % 4 == 3:
                return frames.jt808_heartbeat(device.device_id, serial)
            return frames.jt808_location(
                device.device_id, serial, now, fix, battery=persona.battery, signal=24
            )
        choice = beat % 8
        if choice == 2:
            return frames.watch_heart(device.device_id, persona.heart_rate())
        if choice == 4:
            systolic, diastolic = persona.blood_pressure()
            return frames.watch_blood(device.device_id, systolic, diastolic, persona.heart_rate())
        if choice == 6:  # SpO2 and body temperature in turn
            if (beat // 8) % 2 == 0:
                return frames.watch_oxygen(device.device_id, persona.spo2())
            return frames.watch_temperature(device.device_id, persona.body_temperature())
        if choice == 7:
            return frames.watch_lk(device.device_id, steps=persona.steps, battery=persona.battery)
        return frames.watch_position(device.device_id, now, fix, battery=persona.battery, steps=persona.steps)

    async def _inject_tcp(self, kind, index, device, persona, writer, now, serial) -> None:
        fix = persona.position(now)
        if kind == "silence":
            self.silenced.add(index)
            return
        if kind == "leave_area":
            persona.away = True
            fix = persona.position(now)
        if device.protocol == "jt808":
            if kind == "blind_batch":
                bodies = [
                    frames.jt808_location_body(now, persona.position(now), battery=persona.battery)
                    for _ in range(3)
                ]
                bodies.append(frames.jt808_location_body(now, fix, alarm=frames.JT_SOS))
                await self._send(writer, frames.jt808_blind_batch(device.device_id, serial, bodies))
                return
            alarm = {"sos": frames.JT_SOS, "low_battery": frames.JT_LOW_POWER}.get(kind, frames.JT_SOS)
            await self._send(writer, frames.jt808_location(device.device_id, serial, now, fix, alarm=alarm))
            return
        status = {
            "sos": frames.WATCH_SOS,
            "fall": frames.WATCH_FALL,
            "removed": frames.WATCH_REMOVED,
            "low_battery": frames.WATCH_LOW_BATTERY,
            "leave_area": 0,
        }.get(kind, frames.WATCH_SOS)
        message = "UD2" if kind == "blind_batch" else ("AL" if status else "UD")
        await self._send(
            writer,
            frames.watch_position(
                device.device_id,
                now,
                fix,
                kind=message,
                status=status | (frames.WATCH_SOS if kind == "blind_batch" else 0),
                battery=persona.battery,
                steps=persona.steps,
            ),
        )

    async def _read_replies(self, device: SimDevice, reader: asyncio.StreamReader, writer) -> None:
        """Count replies and answer downlink commands the way terminals do (echo / 0x0001)."""
        buffer = b""
        with contextlib.suppress(asyncio.CancelledError, OSError, asyncio.IncompleteReadError):
            while True:
                chunk = await reader.read(4096)
                if not chunk:
                    return
                buffer += chunk
                if device.protocol == "watch":
                    while b"]" in buffer:
                        frame, _, buffer = buffer.partition(b"]")
                        self.stats.replies += 1
                        content = frame.split(b"*", 3)[-1] if frame.count(b"*") >= 3 else b""
                        command = content.split(b",", 1)[0].decode("ascii", "replace")
                        if command and command not in {"LK", "AL", "INIT", "TKQ", "TKQ2", "UD", "JXTKR"}:
                            self.stats.commands_received += 1
                            writer.write(frames.watch_frame(device.device_id, command))
                else:
                    while buffer.count(b"\x7e") >= 2:
                        start = buffer.index(b"\x7e")
                        end = buffer.index(b"\x7e", start + 1)
                        frame, buffer = buffer[start : end + 1], buffer[end + 1 :]
                        self.stats.replies += 1
                        await self._answer_jt808(device, frame, writer)

    async def _answer_jt808(self, device: SimDevice, frame: bytes, writer) -> None:
        import struct

        with contextlib.suppress(Exception):
            message_id, _body = frames.parse_jt808_reply(frame)
            if message_id in (0x8001, 0x8100):
                return
            self.stats.commands_received += 1
            raw = frame.strip(b"\x7e").replace(b"\x7d\x02", b"\x7e").replace(b"\x7d\x01", b"\x7d")
            platform_serial = struct.unpack(">H", raw[10:12])[0]
            writer.write(
                frames.jt808_frame(
                    0x0001, device.device_id, 0, struct.pack(">HHB", platform_serial, message_id, 0)
                )
            )

    async def _send(self, writer: asyncio.StreamWriter, frame: bytes) -> None:
        writer.write(frame)
        await writer.drain()
        self.stats.sent += 1

    async def _mqtt_device(
        self, index: int, device: SimDevice, persona: Persona, stop: asyncio.Event
    ) -> None:
        from urllib.parse import urlparse

        import aiomqtt

        url = urlparse(self.mqtt_url or "mqtt://127.0.0.1:1883")
        base = f"pat/v1/{device.site_id}/sensor/{device.device_id}"
        async with aiomqtt.Client(
            url.hostname or "127.0.0.1", port=url.port or 1883, identifier=f"sim-{device.device_id}"
        ) as client:
            self.stats.connects += 1
            await client.publish(f"{base}/availability", "online", qos=1, retain=True)
            beat = 0
            while not stop.is_set():
                now = datetime.now(UTC)
                kinds = self.pending.pop(index, [])
                if index in self.silenced:
                    await self._sleep(stop, self.interval_s)
                    continue
                payload = self._sensor_state(device, persona, now, beat, kinds)
                topic = f"{base}/event" if payload["alarm"] else f"{base}/state"
                await client.publish(topic, json.dumps(payload), qos=1, retain=not payload["alarm"])
                self.stats.sent += 1
                if "silence" in kinds:
                    self.silenced.add(index)
                beat += 1
                await self._sleep(stop, self.interval_s)

    def _sensor_state(
        self, device: SimDevice, persona: Persona, now: datetime, beat: int, kinds: list[str]
    ) -> dict:
        alarm = bool({"smoke", "sos"} & set(kinds))
        payload: dict = {
            "ts": now.isoformat().replace("+00:00", "Z"),
            "type": device.sensor_type,
            "alarm": alarm,
            "battery": persona.battery,
            "battery_low": persona.battery < 15,
            "tamper": False,
            "lqi": persona.rng.randint(40, 200),
        }
        if device.sensor_type == "door":
            payload["contact"] = not (persona.awake(now) and beat % 5 == 0)
        elif device.sensor_type == "pir":
            payload["occupancy"] = persona.awake(now) and persona.rng.random() < 0.6
        elif device.sensor_type == "sos" and "sos" in kinds:
            payload["action"] = "sos"
        if "smoke" in kinds:
            payload.update(type=device.sensor_type or "smoke", alarm=True)
        if alarm:
            payload["event_id"] = f"{device.device_id}-{int(now.timestamp() * 1000)}"
        return payload
