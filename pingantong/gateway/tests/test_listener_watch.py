"""Real-socket tests of the watch listener: a simulated watch connects over TCP, logs in, reports
positions and an SOS; each reply arrives only once the frame's data is in the database."""

from __future__ import annotations

import pytest

from pingantong.devices.actions import register_device
from pingantong.devices.models import (
    DeviceEventRecord,
    DeviceState,
    PositionRecord,
    RawFrame,
    UnknownDeviceInbox,
)
from pingantong.gateway.tests.gwtools import (
    Terminal,
    durable_before_ack,
    ensure_reference_data,
    queued,
    running_gateway,
)
from pingantong.testing.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _reference_data(django_db_blocker):
    ensure_reference_data()


LK = b"[3G*4700186508*000B*LK,0,10,100]"
UD = b"[3G*4700186508*0060*UD,280824,101010,A,26.263406,N,117.639612,E,1.2,90,50,8,90,80,1200,0,00000000,0]"
AL_SOS = b"[3G*4700186508*0060*AL,280824,101500,A,26.263406,N,117.639612,E,0,0,50,8,90,79,1200,0,00010001,0]"


def test_watch_login_positions_and_sos_are_stored_before_each_ack():
    device = register_device(protocol="watch", identity="4700186508", device_type="watch")
    with running_gateway() as (gateway, ports, lt):
        watch = Terminal(ports["watch"])
        watch.send(LK)
        assert watch.read_until(b"]") == b"[3G*4700186508*0002*LK]"
        # The reply came after commit: the heartbeat is already stored.
        assert DeviceEventRecord.objects.filter(device=device, message="LK").count() == 1

        watch.send(UD)  # UD needs no reply; the position is stored all the same
        watch.send(AL_SOS)
        assert watch.read_until(b"]") == b"[3G*4700186508*0002*AL]"
        # An SOS is acknowledged once durable: on SQLite in the urgent journal, in the database
        # moments later (decision 0130); on PostgreSQL in the database itself.
        stored = DeviceEventRecord.objects.filter(device=device, message="AL")
        assert durable_before_ack(gateway.ingestor, stored, lambda e: e.message == "AL")
        wait_for(stored.exists)
        sos = stored.get()
        assert sos.alarms[0] == "sos" and "low_battery" in sos.alarms
        assert PositionRecord.objects.filter(device=device).count() == 2
        assert RawFrame.objects.filter(device=device).count() == 3
        watch.close()
        lt.run(gateway.ingestor.drain_rules())
    state = DeviceState.objects.get(device=device)
    assert state.latitude == pytest.approx(26.263406)
    assert state.battery_pct == 79
    assert state.last_device_seen_at is not None
    assert state.last_life_sign_source == "sos"
    assert not queued(), "every stored event went through the rules"


def test_unknown_watch_is_answered_and_put_in_the_inbox():
    with running_gateway() as (_gateway, ports, _lt):
        watch = Terminal(ports["watch"])
        watch.send(LK)
        assert watch.read_until(b"]") == b"[3G*4700186508*0002*LK]"
        watch.send(AL_SOS)
        assert watch.read_until(b"]") == b"[3G*4700186508*0002*AL]"
        watch.close()
    inbox = UnknownDeviceInbox.objects.get(protocol="watch", identity="4700186508")
    assert inbox.frame_count == 2
    assert "sos" in inbox.last_alarms
    assert DeviceEventRecord.objects.filter(device__isnull=True, device_identity="4700186508").count() == 2


def test_garbage_and_malformed_frames_do_not_break_the_connection():
    register_device(protocol="watch", identity="4700186508", device_type="watch")
    with running_gateway() as (gateway, ports, _lt):
        watch = Terminal(ports["watch"])
        watch.send(b"\x00\xff garbage [3G*4700186508*0005*]")
        watch.send(b"[no*stars]" + LK)
        assert watch.read_until(b"]") == b"[3G*4700186508*0002*LK]"
        metrics = gateway.listeners["watch"].metrics
        assert metrics.malformed >= 1
        assert metrics.acked == 1
        watch.close()
