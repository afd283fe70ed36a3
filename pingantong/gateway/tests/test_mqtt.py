"""Home sensors over MQTT: zigbee2mqtt and pat/v1 payloads mapped to the alarm vocabulary, and the
subscriber storing them through the ingestor against the local Mosquitto."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest

from pingantong.devices.actions import register_device
from pingantong.devices.models import DeviceEventRecord, DeviceState, SensorRecord, UnknownDeviceInbox
from pingantong.gateway.ingest import Ingestor
from pingantong.gateway.mqtt import MqttService, PayloadError, decode_sensor_message
from pingantong.gateway.tests.gwtools import LoopThread, ensure_reference_data
from pingantong.testing.services import require_service


def msg(data: dict) -> bytes:
    return json.dumps(data).encode()


def test_pat_smoke_event_is_a_smoke_alarm():
    event = decode_sensor_message(
        "pat/v1/site1/sensor/smoke-7/event",
        msg({"ts": "2026-11-28T10:00:00Z", "type": "smoke", "alarm": True, "battery": 80, "event_id": "e1"}),
    )
    assert event is not None
    assert (event.device_id, event.kind, event.alarms) == ("smoke-7", "alarm", ["smoke"])
    assert event.battery_pct == 80 and event.device_time is not None
    assert event.sensor is not None and event.sensor["event_id"] == "e1"


@pytest.mark.parametrize(
    ("payload", "alarms"),
    [
        ({"water_leak": True, "battery": 90}, ["water_leak"]),
        ({"gas_alarm_1": True}, ["gas"]),
        ({"action": "emergency", "battery": 50}, ["sos"]),
        ({"action": "single"}, ["sos"]),
        ({"contact": False, "tamper": True, "battery_low": True}, ["low_battery", "tamper"]),
        ({"occupancy": True, "battery": 10}, ["low_battery"]),
        ({"smoke": False, "battery": 100}, []),
    ],
)
def test_zigbee2mqtt_payloads_map_to_the_alarm_vocabulary(payload, alarms):
    event = decode_sensor_message("zigbee2mqtt/living room/door", msg(payload))
    assert event is not None
    assert event.device_id == "living room/door"
    assert event.alarms == alarms


def test_door_open_is_a_sensor_report_not_an_alarm():
    event = decode_sensor_message("zigbee2mqtt/door1", msg({"contact": False, "battery": 95}))
    assert event is not None and event.kind == "sensor" and event.sensor["type"] == "door"
    assert event.sensor["contact"] is False


def test_non_sensor_topics_are_ignored_and_garbage_is_refused():
    assert decode_sensor_message("zigbee2mqtt/bridge/state", b"online") is None
    assert decode_sensor_message("pat/v1/s/sensor/d/availability", b"online") is None
    with pytest.raises(PayloadError):
        decode_sensor_message("zigbee2mqtt/door1", b"\xff{not json")
    with pytest.raises(PayloadError):
        decode_sensor_message("zigbee2mqtt/door1", b"[1, 2]")


@pytest.mark.django_db(transaction=True)
def test_mosquitto_sensor_messages_are_stored_and_prove_the_person():
    url = require_service("mqtt")
    ensure_reference_data()
    door = register_device(protocol="mqtt", identity=f"door-{uuid.uuid4().hex[:6]}", device_type="door")
    unknown = f"smoke-{uuid.uuid4().hex[:6]}"
    lt = LoopThread()
    ingestor = Ingestor(node=f"mqtt-test-{uuid.uuid4().hex[:6]}")
    # A group of its own: other test runs on the same broker must not take a share of these messages.
    service = MqttService(ingestor, url=url, broker_port=0, share_group=f"t{uuid.uuid4().hex[:8]}")

    async def start():
        await ingestor.start()
        await service.start()
        await asyncio.wait_for(service.ready.wait(), 10)

    async def publish():
        import aiomqtt

        async with aiomqtt.Client("127.0.0.1", port=1883, identifier=f"t-{uuid.uuid4().hex[:6]}") as client:
            await client.publish(
                f"zigbee2mqtt/{door.identity}", msg({"contact": False, "battery": 88}), qos=1
            )
            await client.publish(
                f"pat/v1/site9/sensor/{unknown}/event", msg({"type": "smoke", "alarm": True}), qos=1
            )
            await client.publish(f"zigbee2mqtt/{door.identity}", b"garbage", qos=1)

    try:
        lt.run(start())
        lt.run(publish())
        # Wait for our own messages (the shared broker may carry other traffic and retained state).
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (
            service.received >= 3 and SensorRecord.objects.filter(device=door).exists()
        ):
            time.sleep(0.1)
        lt.run(ingestor.drain_rules())
    finally:
        lt.run(service.stop())
        lt.run(ingestor.stop())
        lt.close()
    assert SensorRecord.objects.filter(device=door).count() == 1
    state = DeviceState.objects.get(device=door)
    assert state.battery_pct == 88 and state.last_life_sign_source == "sensor"
    smoke = DeviceEventRecord.objects.get(device_identity=unknown)
    assert smoke.alarms == ["smoke"] and smoke.device is None
    assert UnknownDeviceInbox.objects.filter(protocol="mqtt", identity=unknown).exists()
    assert service.malformed == 1
