"""Per-connection limits of the listeners: idle timeout, buffer cap, connection cap; random bytes
never take a listener down."""

from __future__ import annotations

import contextlib
import os

import pytest

from pingantong.gateway.listeners import ListenerLimits
from pingantong.gateway.tests.gwtools import Terminal, ensure_reference_data, running_gateway

pytestmark = pytest.mark.django_db(transaction=True)

LK = b"[3G*4700186508*000B*LK,0,10,100]"


@pytest.fixture(autouse=True)
def _reference_data():
    ensure_reference_data()


def test_idle_connection_is_closed_after_the_timeout():
    limits = ListenerLimits(idle_timeout=0.3)
    with running_gateway(ports={"watch": 0}, limits=limits) as (gateway, ports, _lt):
        watch = Terminal(ports["watch"])
        assert watch.expect_silence(3.0) == b"<closed>"
        assert gateway.listeners["watch"].metrics.idle_timeouts == 1


def test_endless_frame_is_cut_off_at_the_buffer_cap():
    limits = ListenerLimits(max_buffered=1024)
    with running_gateway(ports={"watch": 0}, limits=limits) as (gateway, ports, _lt):
        watch = Terminal(ports["watch"])
        watch.send(LK)
        watch.read_until(b"]")
        with contextlib.suppress(OSError):
            watch.send(b"[3G*4700186508*FFFF*UD," + b"9" * 4000)
        assert watch.expect_silence(3.0) == b"<closed>"
        assert gateway.listeners["watch"].metrics.oversize_closes == 1


def test_connections_beyond_the_cap_are_refused_and_the_others_keep_working():
    limits = ListenerLimits(max_connections=2)
    with running_gateway(ports={"watch": 0}, limits=limits) as (gateway, ports, _lt):
        first, second = Terminal(ports["watch"]), Terminal(ports["watch"])
        first.send(LK)
        first.read_until(b"]")
        second.send(LK)
        second.read_until(b"]")
        third = Terminal(ports["watch"])
        assert third.expect_silence(3.0) == b"<closed>"
        assert gateway.listeners["watch"].metrics.connections_rejected == 1
        first.send(LK)
        assert first.read_until(b"]") == b"[3G*4700186508*0002*LK]"


def test_random_bytes_on_both_listeners_never_stop_them():
    with running_gateway() as (_gateway, ports, _lt):
        for protocol in ("watch", "jt808"):
            for _ in range(5):
                noise = Terminal(ports[protocol])
                noise.send(os.urandom(2000) + b"\x7e\x7e[]][" + os.urandom(500))
                noise.close()
        watch = Terminal(ports["watch"])
        watch.send(LK)
        assert watch.read_until(b"]") == b"[3G*4700186508*0002*LK]"
