"""The simulated fleet over real sockets against the real gateway: injected events arrive as the
alarms they stand for (fall, removal, SOS in a JT/T 808 blind-area batch), routines produce
positions, and the same seed gives the same fleet."""

from __future__ import annotations

import asyncio
import time

import pytest

from pingantong.demo.simulator.fleet import Fleet, Injection, make_fleet


def test_same_seed_same_fleet_other_seed_other_ids():
    assert make_fleet(6, 5) == make_fleet(6, 5)
    assert [d.device_id for d in make_fleet(6, 5)] != [d.device_id for d in make_fleet(6, 6)]
    protocols = [d.protocol for d in make_fleet(6, 5)]
    assert protocols == ["watch", "jt808", "mqtt", "watch", "jt808", "mqtt"]


@pytest.mark.django_db(transaction=True)
def test_injected_events_reach_the_gateway_as_their_alarms():
    from pingantong.devices.models import DeviceEventRecord
    from pingantong.gateway.tests.gwtools import ensure_reference_data, running_gateway

    ensure_reference_data()
    devices = make_fleet(3, 9, mix=("watch", "jt808"))  # watch, jt808, watch
    injections = [
        Injection("removed", 0, 0.5),
        Injection("blind_batch", 1, 0.5),
        Injection("fall", 2, 0.5),
    ]
    with running_gateway() as (gateway, ports, lt):
        fleet = Fleet(
            devices,
            watch_port=ports["watch"],
            jt808_port=ports["jt808"],
            interval_s=0.5,
            seed=9,
            injections=injections,
        )
        stop = lt.run(_event())
        running = asyncio.run_coroutine_threadsafe(fleet.run(stop, duration_s=30), lt.loop)

        def alarms_of(index: int) -> set[str]:
            rows = DeviceEventRecord.objects.filter(device_identity=devices[index].device_id)
            return {a for row in rows for a in (row.alarms or [])}

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if "removed" in alarms_of(0) and "sos" in alarms_of(1) and "fall" in alarms_of(2):
                break
            time.sleep(0.3)
        lt.loop.call_soon_threadsafe(stop.set)
        stats = running.result(15)
        lt.run(gateway.ingestor.drain_rules())
    assert "removed" in alarms_of(0)
    assert "fall" in alarms_of(2)
    assert "sos" in alarms_of(1)
    batch = DeviceEventRecord.objects.filter(device_identity=devices[1].device_id, archived=True)
    assert batch.count() >= 4  # three positions and the late SOS, all marked blind-area
    assert sorted(stats.injected) == sorted(
        [
            f"removed@{devices[0].device_id}",
            f"blind_batch@{devices[1].device_id}",
            f"fall@{devices[2].device_id}",
        ]
    )
    assert stats.replies > 0 and stats.errors == 0


async def _event() -> asyncio.Event:
    return asyncio.Event()


def test_a_watch_day_includes_every_vital_the_codec_reads():
    from datetime import UTC, datetime

    from pingantong.demo.simulator.fleet import Persona
    from pingantong.gateway.protocols import get_codec

    watch = make_fleet(1, 3, mix=("watch",))[0]
    fleet = Fleet([watch], seed=3)
    persona = Persona(watch, 3)
    now = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # 10:00 in 三元区: awake
    codec = get_codec("watch")
    vitals: set[str] = set()
    for beat in range(16):
        for decoded in codec.feed(fleet._periodic_frame(watch, persona, now, beat, beat)):
            assert decoded.error is None
            for event in decoded.events:
                vitals |= set(event.vitals or {})
    assert vitals >= {"heart_rate_bpm", "bp_systolic_mmhg", "bp_diastolic_mmhg", "spo2_pct", "body_temp_c"}
