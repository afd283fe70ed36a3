"""Demo terminals bound to the demo clients: watches, JT/T 808 pendants and MQTT home sensors.

Every client gets a basic terminal (D1: a 4G watch or an SOS pendant); some homes get sensors
(door, motion, smoke), so that at least three device types are in use (D2). Identities follow each
protocol's form, with digits no real terminal of the pilot carries:
watch ``35040NNNNN`` (10 digits), JT/T 808 terminal number ``1440404NNNNN`` (12-digit BCD, stored
without leading zeros as the gateway reports it), zigbee IEEE address ``0x00158d00350404NN``.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

WATCH_MODELS = ("PAT-W2 4G", "KT-04 4G")
PENDANT_MODELS = ("PAT-P1 JT808", "SOS-Card 4G")


def watch_identity(n: int) -> str:
    return f"35040{n:05d}"


def jt808_identity(n: int) -> str:
    return f"1440404{n:05d}"


def sensor_identity(n: int) -> str:
    return f"0x00158d0035{n:06x}"


def build_devices(clients: list[Any], seed: int) -> list[Any]:
    """Unsaved Device rows for the clients (their region for access, their home for the fleet)."""
    from pingantong.devices.models import Device

    rng = random.Random(f"{seed}:devices")
    bound = any(f.name == "client" for f in Device._meta.get_fields())
    devices: list[Any] = []
    counters = {"watch": 0, "jt808": 0, "mqtt": 0}

    def add(client: Any, protocol: str, device_type: str, identity: str, model_name: str) -> None:
        fields: dict[str, Any] = {
            "protocol": protocol,
            "identity": identity,
            "device_type_id": device_type,
            "model_name": model_name,
            "region_id": client.region_id,
        }
        if protocol != "mqtt":
            fields["iccid"] = f"898604{rng.randrange(10**13):013d}"
            fields["sim_number"] = f"1440405{len(devices):04d}"
        if bound:
            fields["client"] = client
        devices.append(Device(**fields))

    for client in clients:
        if rng.random() < 0.6:
            counters["watch"] += 1
            add(client, "watch", "watch", watch_identity(counters["watch"]), rng.choice(WATCH_MODELS))
        else:
            counters["jt808"] += 1
            add(client, "jt808", "pendant", jt808_identity(counters["jt808"]), rng.choice(PENDANT_MODELS))
        for sensor, rate in (("door", 0.3), ("motion", 0.12), ("smoke", 0.15)):
            if rng.random() < rate or (
                sensor == "motion" and client.risk_tier == "high" and rng.random() < 0.4
            ):
                counters["mqtt"] += 1
                add(client, "mqtt", sensor, sensor_identity(counters["mqtt"]), f"zigbee {sensor}")
    return devices


def last_known_state(device: Any, client: Any, rng: random.Random, now: datetime) -> dict[str, Any]:
    """What the registry would know after a normal day: a recent message and life sign for most,
    and about 3 % silent for more than 24 hours, so that the S06 follow-up has work to show."""
    silent = rng.random() < 0.03
    seen = now - (timedelta(hours=rng.uniform(26, 40)) if silent else timedelta(minutes=rng.uniform(2, 600)))
    state: dict[str, Any] = {"last_message_at": seen, "last_device_seen_at": seen}
    if device.protocol == "mqtt":
        if device.device_type_id in ("door", "motion"):
            state.update(last_life_sign_at=seen, last_life_sign_source="sensor")
        state["battery_pct"] = rng.randint(30, 100)
        return state
    lat = (client.home_lat or 26.2634) + rng.uniform(-0.001, 0.001)
    lon = (client.home_lon or 117.639) + rng.uniform(-0.001, 0.001)
    state.update(
        latitude=round(lat, 6),
        longitude=round(lon, 6),
        position_valid=True,
        position_at=seen,
        battery_pct=rng.randint(15, 100),
        signal_pct=rng.randint(40, 100),
        steps=rng.randint(0, 4000) if device.protocol == "watch" else None,
        last_life_sign_at=seen,
        last_life_sign_source="steps",
    )
    return state


def create_devices(clients: list[Any], seed: int) -> int:
    from django.utils import timezone

    from pingantong.devices.models import Device, DeviceState

    devices = build_devices(clients, seed)
    Device.objects.bulk_create(devices)
    rng = random.Random(f"{seed}:states")
    now = timezone.now()
    known = {f.name for f in DeviceState._meta.get_fields()}
    by_pk = {id(c): c for c in clients}
    states = []
    for device in devices:
        client = by_pk.get(id(getattr(device, "client", None)))
        fields = last_known_state(device, client, rng, now) if client is not None else {}
        states.append(DeviceState(device=device, **{k: v for k, v in fields.items() if k in known}))
    DeviceState.objects.bulk_create(states)
    return len(devices)
