"""Downlink commands over real sockets: queued in the database, delivered to the connected device
by the gateway that holds it, and confirmed by the device's answer."""

from __future__ import annotations

import asyncio
import struct
import time

import pytest

from pingantong.devices.actions import queue_command, register_device
from pingantong.devices.models import DeviceState, DownlinkCommand
from pingantong.gateway.tests.gwtools import Terminal, ensure_reference_data, running_gateway
from pingantong.gateway.tests.test_listener_jt808 import PHONE, msg, reply_fields
from pingantong.testing.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

LK = b"[3G*4700186508*000B*LK,0,10,100]"


@pytest.fixture(autouse=True)
def _reference_data():
    ensure_reference_data()


def test_watch_command_is_delivered_and_confirmed_by_the_echo():
    device = register_device(protocol="watch", identity="4700186508", device_type="watch")
    with running_gateway(ports={"watch": 0}) as (_gateway, ports, _lt):
        watch = Terminal(ports["watch"])
        watch.send(LK)
        watch.read_until(b"]")
        wait_for(lambda: DeviceState.objects.get(device=device).connected_node == "test-node")
        command = queue_command(device=device, kind="report_interval", payload={"seconds": 120})
        assert watch.read_until(b"]") == b"[3G*4700186508*000a*UPLOAD,120]"
        command.refresh_from_db()
        assert command.status == "sent" and command.gateway_node == "test-node"
        watch.send(b"[3G*4700186508*0006*UPLOAD]")  # the watch echoes the command type
        wait_for(lambda: DownlinkCommand.objects.get(pk=command.pk).status == "confirmed")
        watch.close()
        wait_for(lambda: DeviceState.objects.get(device=device).connected_node == "")


def test_jt808_command_is_confirmed_by_0x0001_with_our_platform_serial():
    device = register_device(protocol="jt808", identity="13912345678", device_type="jt808_tracker")
    with running_gateway(ports={"jt808": 0}) as (_gateway, ports, _lt):
        term = Terminal(ports["jt808"])
        term.send(msg(0x0002, 1))
        term.read_frame_7e()
        wait_for(lambda: DeviceState.objects.get(device=device).connected_node == "test-node")
        command = queue_command(device=device, kind="call_back", payload={"phone": "13800000000"})
        msg_id, platform_serial, body = reply_fields(term.read_frame_7e())
        assert msg_id == 0x8400 and body == b"\x0013800000000"
        wait_for(lambda: DownlinkCommand.objects.get(pk=command.pk).wire_serial == platform_serial)
        term.send(msg(0x0001, 2, struct.pack(">HHB", platform_serial, 0x8400, 0)))
        wait_for(lambda: DownlinkCommand.objects.get(pk=command.pk).status == "confirmed")
        assert PHONE  # same terminal number as the listener tests


def test_command_waits_in_the_queue_until_the_device_connects_to_any_gateway():
    device = register_device(protocol="watch", identity="4700186508", device_type="watch")
    command = queue_command(device=device, kind="locate_now")
    with running_gateway(ports={"watch": 0}, node="gateway-b") as (_gateway, ports, _lt):
        time.sleep(1.2)
        assert DownlinkCommand.objects.get(pk=command.pk).status == "queued"
        watch = Terminal(ports["watch"])
        watch.send(LK)
        # The LK reply and the queued command, in either order (the command is sent on identification).
        got = {watch.read_until(b"]"), watch.read_until(b"]")}
        assert got == {b"[3G*4700186508*0002*LK]", b"[3G*4700186508*0002*CR]"}
        wait_for(lambda: DownlinkCommand.objects.get(pk=command.pk).gateway_node == "gateway-b")


def test_command_the_protocol_cannot_carry_fails_with_a_reason():
    device = register_device(protocol="jt808", identity="13912345678", device_type="jt808_tracker")
    command = queue_command(device=device, kind="clock_zone", payload={"minutes": 480})
    with running_gateway(ports={"jt808": 0}) as (_gateway, ports, _lt):
        term = Terminal(ports["jt808"])
        term.send(msg(0x0002, 1))
        term.read_frame_7e()
        wait_for(lambda: DownlinkCommand.objects.get(pk=command.pk).status == "failed")
    assert "clock_zone" in DownlinkCommand.objects.get(pk=command.pk).error


def test_the_dispatcher_stops_even_when_a_device_connects_as_it_is_stopped():
    """A device identified (the dispatcher's kick) in the same turn of the loop as the gateway's
    stop: the poll loop still ends. With `asyncio.wait_for` on Python 3.11 the cancellation was
    lost when the kick arrived with it, the loop polled on, and the gateway's stop never returned
    (a test that stopped right after a device's first ACK hung now and then)."""
    from pingantong.gateway.downlink import DownlinkDispatcher

    with running_gateway(ports={"jt808": 0}) as (gateway, _ports, lt):
        dispatcher = next(aux for aux in gateway._aux if isinstance(aux, DownlinkDispatcher))

        async def kicked_as_stopped() -> bool:
            for _ in range(20):
                await asyncio.sleep(0.05)  # the poll loop waits for its kick now
                assert dispatcher._task is not None and not dispatcher._task.done()
                dispatcher._kick.set()
                task = dispatcher._task
                stopping = asyncio.ensure_future(dispatcher.stop())
                done, _ = await asyncio.wait({stopping}, timeout=5)
                if stopping not in done:
                    task.cancel()  # so that the gateway's own stop ends
                    await stopping
                    raise AssertionError("stop() did not return: the poll loop lost its cancellation")
                await dispatcher.start()  # and again: the race is one turn of the loop wide
            return True

        assert lt.run(kicked_as_stopped(), timeout=120)
