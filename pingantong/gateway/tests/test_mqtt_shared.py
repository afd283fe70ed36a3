"""Scaled mode on MQTT: two gateways on one Mosquitto split the home-sensor messages through a
shared subscription, so each message is stored exactly once (by one of them); without the group
both would store every message. The topic contract seen by publishers does not change."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest
from django.test import override_settings

from pingantong.devices.models import DeviceEventRecord
from pingantong.gateway.ingest import Ingestor
from pingantong.gateway.mqtt import SUBSCRIPTIONS, MqttService
from pingantong.gateway.tests.gwtools import LoopThread, ensure_reference_data
from pingantong.testing.services import require_service

MESSAGES = 40


def _run_two_gateways(url: str, *, share_group: str) -> tuple[list[MqttService], str]:
    """Start two subscribers (each with its own ingestor, like two processes), publish MESSAGES
    pat/v1 events on a site of this run, wait until the expected rows are stored; return them."""
    site = f"site-{uuid.uuid4().hex[:8]}"
    lt = LoopThread()
    ingestors = [Ingestor(node=f"gw{i}-{uuid.uuid4().hex[:6]}") for i in (1, 2)]
    services = [MqttService(i, url=url, broker_port=0, share_group=share_group) for i in ingestors]
    expected = MESSAGES * (1 if share_group else 2)

    async def start():
        for ingestor, service in zip(ingestors, services, strict=True):
            await ingestor.start()
            await service.start()
        for service in services:
            await asyncio.wait_for(service.ready.wait(), 10)

    async def publish():
        import aiomqtt

        async with aiomqtt.Client("127.0.0.1", port=1883, identifier=f"pub-{uuid.uuid4().hex[:6]}") as client:
            for n in range(MESSAGES):
                payload = {"type": "door", "contact": n % 2 == 0, "event_id": f"m{n}"}
                await client.publish(
                    f"pat/v1/{site}/sensor/{site}-door-{n:03d}/event", json.dumps(payload).encode(), qos=1
                )

    try:
        lt.run(start())
        lt.run(publish())
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if DeviceEventRecord.objects.filter(device_identity__startswith=site).count() >= expected:
                break
            time.sleep(0.1)
        time.sleep(0.5)  # anything beyond the expected count would show up now
    finally:
        for service in services:
            lt.run(service.stop())
        for ingestor in ingestors:
            lt.run(ingestor.stop())
        lt.close()
    return services, site


@pytest.mark.django_db(transaction=True)
def test_two_gateways_in_a_share_group_store_each_message_exactly_once():
    url = require_service("mqtt")
    ensure_reference_data()
    group = f"pat{uuid.uuid4().hex[:8]}"
    services, site = _run_two_gateways(url, share_group=group)
    rows = list(
        DeviceEventRecord.objects.filter(device_identity__startswith=site).values_list(
            "device_identity", "gateway_node"
        )
    )
    identities = [identity for identity, _node in rows]
    assert sorted(identities) == [f"{site}-door-{n:03d}" for n in range(MESSAGES)]  # each once, none missing
    nodes = {node for _identity, node in rows}
    assert nodes == {s.ingestor.node for s in services}  # both gateways took a share
    assert all(s.topic_filters()[0] == f"$share/{group}/{SUBSCRIPTIONS[0]}" for s in services)


@pytest.mark.django_db(transaction=True)
def test_without_a_share_group_every_gateway_stores_every_message():
    """The control: what scaled mode did before shared subscriptions (each message twice)."""
    url = require_service("mqtt")
    ensure_reference_data()
    _services, site = _run_two_gateways(url, share_group="")
    identities = list(
        DeviceEventRecord.objects.filter(device_identity__startswith=site).values_list(
            "device_identity", flat=True
        )
    )
    assert len(identities) == 2 * MESSAGES and len(set(identities)) == MESSAGES


def test_shared_subscription_only_on_an_external_broker_and_sessions_follow_the_node_name():
    ingestor = Ingestor(node="gw-test")
    external = MqttService(ingestor, url="mqtt://broker:1883", broker_port=0)
    assert external.share_group == "pingantong"
    assert external.topic_filters() == [
        "$share/pingantong/pat/v1/+/sensor/+/state",
        "$share/pingantong/pat/v1/+/sensor/+/event",
        "$share/pingantong/zigbee2mqtt/#",
    ]
    # A per-process name would leave a session behind that the broker keeps feeding: clean session.
    assert external.persistent_session is False
    with override_settings(PINGANTONG_GATEWAY_NODE="gw-host-1"):
        assert MqttService(ingestor, url="mqtt://broker:1883", broker_port=0).persistent_session is True
    with override_settings(PINGANTONG_MQTT_SHARE_GROUP=""):
        plain = MqttService(ingestor, url="mqtt://broker:1883", broker_port=0)
        assert plain.topic_filters()[0] == SUBSCRIPTIONS[0] and plain.persistent_session is True
    embedded = MqttService(ingestor, url="", broker_port=1883)  # the built-in broker: one gateway
    assert embedded.share_group == ""
    with pytest.raises(ValueError):
        MqttService(ingestor, url="mqtt://broker:1883", broker_port=0, share_group="a/b")


def test_retired_nodes_persistent_session_stops_taking_a_share_once_forgotten():
    """Mosquitto queues a share for an offline persistent member; `mqtt_forget_node` ends that."""
    import aiomqtt
    from django.core.management import call_command

    url = require_service("mqtt")
    group, topic = f"g{uuid.uuid4().hex[:8]}", f"pingantong-test/{uuid.uuid4().hex[:8]}"
    retired = f"retired-{uuid.uuid4().hex[:6]}"

    async def member_leaves() -> None:
        async with aiomqtt.Client(
            "127.0.0.1", 1883, identifier=f"pingantong-gateway-{retired}", clean_session=False
        ) as client:
            await client.subscribe(f"$share/{group}/{topic}", qos=1)

    async def survivor_receives() -> int:
        got = 0
        async with aiomqtt.Client("127.0.0.1", 1883, identifier=f"s-{uuid.uuid4().hex[:6]}") as client:
            await client.subscribe(f"$share/{group}/{topic}", qos=1)
            async with aiomqtt.Client("127.0.0.1", 1883, identifier=f"p-{uuid.uuid4().hex[:6]}") as pub:
                for n in range(10):
                    await pub.publish(topic, str(n).encode(), qos=1)
            try:
                async with asyncio.timeout(2):
                    async for _message in client.messages:
                        got += 1
            except TimeoutError:
                pass
        return got

    asyncio.run(member_leaves())
    assert asyncio.run(survivor_receives()) < 10  # the offline member's share is queued for it
    call_command("mqtt_forget_node", retired, url=url)
    assert asyncio.run(survivor_receives()) == 10


@pytest.mark.django_db(transaction=True)
def test_a_persistent_session_upgraded_to_shared_drops_its_old_plain_subscriptions():
    """A node that ran before shared subscriptions has plain filters stored in its broker session;
    kept, they would hand it every message while the other member of the group gets its share
    too, so messages would be stored twice."""
    import aiomqtt

    url = require_service("mqtt")
    ensure_reference_data()
    node = f"upgraded-{uuid.uuid4().hex[:6]}"
    site = f"site-{uuid.uuid4().hex[:8]}"
    group = f"g{uuid.uuid4().hex[:8]}"

    async def old_run() -> None:  # what the previous version subscribed, in a persistent session
        async with aiomqtt.Client(
            "127.0.0.1", 1883, identifier=f"pingantong-gateway-{node}", clean_session=False
        ) as client:
            for topic in SUBSCRIPTIONS:
                await client.subscribe(topic, qos=1)

    asyncio.run(old_run())
    lt = LoopThread()
    ingestors = [Ingestor(node=node), Ingestor(node=f"fresh-{uuid.uuid4().hex[:6]}")]
    services = [
        MqttService(ingestors[0], url=url, broker_port=0, share_group=group, persistent_session=True),
        MqttService(ingestors[1], url=url, broker_port=0, share_group=group),
    ]

    async def start():
        for ingestor, service in zip(ingestors, services, strict=True):
            await ingestor.start()
            await service.start()
        for service in services:
            await asyncio.wait_for(service.ready.wait(), 10)

    async def publish():
        async with aiomqtt.Client("127.0.0.1", 1883, identifier=f"pub-{uuid.uuid4().hex[:6]}") as client:
            for n in range(20):
                payload = json.dumps({"type": "pir", "occupancy": True}).encode()
                await client.publish(f"pat/v1/{site}/sensor/{site}-pir-{n:02d}/event", payload, qos=1)

    try:
        lt.run(start())
        lt.run(publish())
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if DeviceEventRecord.objects.filter(device_identity__startswith=site).count() >= 20:
                break
            time.sleep(0.1)
        time.sleep(1.0)  # second copies through a stale plain subscription would arrive now
    finally:
        for service in services:
            lt.run(service.stop())
        for ingestor in ingestors:
            lt.run(ingestor.stop())
        lt.close()
        from django.core.management import call_command

        call_command("mqtt_forget_node", node, url=url)
    identities = list(
        DeviceEventRecord.objects.filter(device_identity__startswith=site).values_list(
            "device_identity", flat=True
        )
    )
    assert sorted(identities) == [f"{site}-pir-{n:02d}" for n in range(20)]
