"""Demo terminals bound to the demo clients: watches, JT/T 808 pendants and MQTT home sensors.

Every client gets a basic terminal (D1: a 4G watch or an SOS pendant); some homes get sensors
(door, motion, smoke), so that at least three device types are in use (D2). Identities follow each
protocol's form, with digits no real terminal of the pilot carries:
watch ``35040NNNNN`` (10 digits), JT/T 808 terminal number ``1440404NNNNN`` (12-digit BCD, stored
without leading zeros as the gateway reports it), zigbee IEEE address ``0x00158d00350404NN``.
"""

from __future__ import annotations

import random
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


def create_devices(clients: list[Any], seed: int) -> int:
    from pingantong.devices.models import Device, DeviceState

    devices = build_devices(clients, seed)
    Device.objects.bulk_create(devices)
    DeviceState.objects.bulk_create([DeviceState(device=d) for d in devices])
    return len(devices)
