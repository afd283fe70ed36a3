"""Benchmarks that cross the apps: SOS-to-screen latency, and the machine's own ceilings.

`sos_to_screen` measures what an agent waits for: a watch sends an SOS over TCP, the gateway
stores it durably and acknowledges it, the rules raise the alarm, and the live push puts the row
on every console's channel. We time frame-sent → console message received (the channel-layer
group that every console joins), without a browser: the render is a few ms of htmx on top. It is
measured idle and while a simulated fleet of terminals (the `simulate` fleet) reports in the
background, beside the bare ceiling of the same run (a TCP echo round trip on the same loop).

`storage` measures the bytes one terminal frame costs in the database (raw frame, decoded event,
time series, life signs, indexes) from real simulated traffic: the unit of the capacity plan
(docs/scaling.md).

`machine` records what this machine can do at all, so that the other figures can be read against
it: single-row durable commits per second (the bound on a write-then-ACK gateway without group
commit), batched raw inserts per second, and a pure-Python CPU reference.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Any

TARGET_SOS_TO_SCREEN_P99_MS = 1000.0  # ours; Xiamen reports alarm-to-screen in 5–10 s (DOMAIN.md)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return round(ordered[index], 2)


def _register_watches(count: int) -> list[str]:
    from pingantong.devices.models import Device, DeviceState

    identities = [f"35049{n:05d}" for n in range(count)]
    devices = [Device(protocol="watch", identity=i, device_type_id="watch") for i in identities]
    Device.objects.bulk_create(devices, ignore_conflicts=True)
    pks = Device.objects.filter(identity__in=identities).values_list("pk", flat=True)
    DeviceState.objects.bulk_create([DeviceState(device_id=pk) for pk in pks], ignore_conflicts=True)
    return identities


async def _echo_rtt_ms(samples: int) -> list[float]:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            while data := await reader.read(4096):
                writer.write(data)
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    result = []
    for _ in range(samples):
        started = time.perf_counter()
        writer.write(b"[3G*3504900000*0002*LK]")
        await reader.readuntil(b"]")
        result.append((time.perf_counter() - started) * 1000)
    writer.close()
    await writer.wait_closed()
    await asyncio.sleep(0.05)  # let the echo handler see EOF and finish before the server closes
    server.close()
    await server.wait_closed()
    return result


async def _sos_round(port: int, identity: str, channel: str, layer: Any) -> tuple[float, float]:
    """(frame→ACK ms, frame→console push ms) for one SOS from a fresh watch."""
    from pingantong.demo.simulator import frames
    from pingantong.demo.simulator.frames import Fix

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(frames.watch_lk(identity, battery=80))
        await reader.readuntil(b"]")
        fix = Fix(latitude=26.2634, longitude=117.6390, satellites=8)
        sos = frames.watch_position(
            identity, datetime.now(UTC), fix, kind="AL", status=frames.WATCH_SOS, battery=80
        )
        started = time.perf_counter()
        writer.write(sos)
        await reader.readuntil(b"]")
        acked = time.perf_counter()
        while True:
            message = await asyncio.wait_for(layer.receive(channel), 30)
            if message.get("event") == "raised":
                return (acked - started) * 1000, (time.perf_counter() - started) * 1000
    finally:
        writer.close()


async def _measure(count: int, background: int, interval_s: float) -> dict[str, Any]:
    from channels.layers import get_channel_layer

    from pingantong.alarms import live
    from pingantong.gateway.listeners import Gateway

    loop = asyncio.get_running_loop()
    identities = await loop.run_in_executor(None, _register_watches, 2 * count)
    gateway = Gateway({"watch": 0, "jt808": 0}, host="127.0.0.1", node="bench-sos")
    ports = await gateway.start()
    layer = get_channel_layer()
    live.register_console_loop(loop)  # pushes from the rules thread land on this loop, as for consoles
    channel = await layer.new_channel()
    await layer.group_add(live.ALL_GROUP, channel)
    result: dict[str, Any] = {}
    try:
        idle = [await _sos_round(ports["watch"], i, channel, layer) for i in identities[:count]]
        # The background fleet is `pingantong simulate` in its own process, as real terminals would
        # be: it must not share this event loop (or this core's time slices) with the gateway.
        simulator = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "pingantong.cli",
            "simulate",
            f"--count={background}",
            f"--interval={interval_s}",
            "--seed=11",
            "--protocols=watch,jt808",
            f"--watch-port={ports['watch']}",
            f"--jt808-port={ports['jt808']}",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await asyncio.sleep(interval_s + 8.0)  # started, every terminal connected and reporting
        t0 = time.perf_counter()
        loaded = [await _sos_round(ports["watch"], i, channel, layer) for i in identities[count:]]
        elapsed = time.perf_counter() - t0
        simulator.send_signal(signal.SIGINT)
        out, _err = await simulator.communicate()
        stats = json.loads(out.decode().strip().splitlines()[-1] or "{}")
        # Terminals send one frame per interval each (plus logins): the rate the gateway carried.
        load_rate = stats.get("sent", 0) / max(elapsed + interval_s + 8.0, 1.0)
        result = {
            "idle_ack": [a for a, _ in idle],
            "idle_screen": [s for _, s in idle],
            "load_ack": [a for a, _ in loaded],
            "load_screen": [s for _, s in loaded],
            "background_msgs_per_s": round(load_rate, 1),
            "background_terminals": background,
        }
    finally:
        await layer.group_discard(live.ALL_GROUP, channel)
        await gateway.stop()
    result["echo"] = await _echo_rtt_ms(200)
    return result


def bench_sos_to_screen(scale: float) -> dict[str, Any]:
    """SOS frame → alarm on the console's live channel, p50/p99, idle and under fleet load."""
    count = max(10, int(60 * min(scale, 1.0)))
    background = max(20, int(1000 * scale))
    data = asyncio.run(_measure(count, background, interval_s=5.0))
    echo_p99 = _percentile(data["echo"], 0.99)
    figures = [
        {"name": "SOS → console, idle, p50", "value": _percentile(data["idle_screen"], 0.5), "unit": "ms"},
        {
            "name": "SOS → console, idle, p99",
            "value": _percentile(data["idle_screen"], 0.99),
            "unit": "ms",
            "target": TARGET_SOS_TO_SCREEN_P99_MS,
            "ceiling": echo_p99,
        },
        {
            "name": "SOS → ACK (stored), idle, p50",
            "value": _percentile(data["idle_ack"], 0.5),
            "unit": "ms",
        },
        {
            "name": "SOS → console, loaded, p50",
            "value": _percentile(data["load_screen"], 0.5),
            "unit": "ms",
        },
        {
            "name": "SOS → console, loaded, p99",
            "value": _percentile(data["load_screen"], 0.99),
            "unit": "ms",
            "target": TARGET_SOS_TO_SCREEN_P99_MS,
            "ceiling": echo_p99,
        },
        {"name": "SOS → ACK (stored), load, p50", "value": _percentile(data["load_ack"], 0.5), "unit": "ms"},
        {"name": "background terminals", "value": data["background_terminals"], "unit": "term"},
        {"name": "background load", "value": data["background_msgs_per_s"], "unit": "msg/s"},
    ]
    return {
        "figures": figures,
        "samples": {k: len(v) for k, v in data.items() if isinstance(v, list)},
        "medians_ms": {
            k: round(statistics.median(v), 2) for k, v in data.items() if isinstance(v, list) and v
        },
    }


def _key() -> str:
    from django.db import connection

    return "id SERIAL PRIMARY KEY" if connection.vendor == "postgresql" else "id INTEGER PRIMARY KEY"


def _commit_rate(seconds: float) -> float:
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS bench_commit ({_key()}, v TEXT)")
    done, deadline = 0, time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < deadline:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("INSERT INTO bench_commit (v) VALUES (%s)", ["x" * 200])
        done += 1
    rate = done / (time.perf_counter() - started)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_commit")
    return rate


def _batch_insert_rate(rows: int) -> float:
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS bench_batch ({_key()}, a TEXT, b REAL)")
    values = [("x" * 200, float(n)) for n in range(rows)]
    started = time.perf_counter()
    for start in range(0, rows, 1000):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany("INSERT INTO bench_batch (a, b) VALUES (%s, %s)", values[start : start + 1000])
    rate = rows / (time.perf_counter() - started)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_batch")
    return rate


def _cpu_reference(seconds: float) -> float:
    """JSON encode/decode round trips per second of a typical decoded event (one core)."""
    import json

    event = {
        "protocol": "watch",
        "device_id": "3504900001",
        "kind": "position",
        "position": {"latitude": 26.2634, "longitude": 117.639, "valid": True},
        "alarms": ["sos"],
        "battery_pct": 80,
    }
    done, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        for _ in range(100):
            json.loads(json.dumps(event))
        done += 100
    return done / seconds


def bench_machine(scale: float) -> dict[str, Any]:
    """The machine's ceilings: durable single-row commits/s, batched inserts/s, CPU reference."""
    from django.db import connection

    seconds = max(2.0, 5.0 * min(scale, 1.0))
    commits = _commit_rate(seconds)
    batched = _batch_insert_rate(max(20_000, int(200_000 * min(scale, 1.0))))
    cpu = _cpu_reference(seconds / 2)
    return {
        "figures": [
            {"name": "durable single-row commits /s", "value": round(commits, 1), "unit": "tx/s"},
            {"name": "batched raw inserts /s (1,000/tx)", "value": round(batched, 1), "unit": "rows/s"},
            {"name": "JSON event round trips /s (1 core)", "value": round(cpu, 1), "unit": "ops/s"},
        ],
        "database": connection.vendor,
    }


def _database_bytes() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname LIKE 'devices\\_%%'"
            )
            return int(cursor.fetchone()[0])
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.execute("PRAGMA page_count")
        pages = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA freelist_count")
        free = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA page_size")
        return (pages - free) * int(cursor.fetchone()[0])


def _telemetry_rows() -> dict[str, int]:
    from pingantong.devices.models import (
        DeviceEventRecord,
        PositionRecord,
        RawFrame,
        SensorRecord,
        VitalsRecord,
    )

    return {
        "raw_frames": RawFrame.objects.count(),
        "events": DeviceEventRecord.objects.count(),
        "positions": PositionRecord.objects.count(),
        "vitals": VitalsRecord.objects.count(),
        "sensor": SensorRecord.objects.count(),
    }


async def _fleet_traffic(terminals: int, seconds: float) -> int:
    from pingantong.demo.simulator.fleet import Fleet, make_fleet
    from pingantong.gateway.listeners import Gateway

    gateway = Gateway({"watch": 0, "jt808": 0}, host="127.0.0.1", node="bench-storage")
    ports = await gateway.start()
    try:
        fleet = Fleet(
            make_fleet(terminals, 21, mix=("watch", "jt808")),
            watch_port=ports["watch"],
            jt808_port=ports["jt808"],
            interval_s=1.0,
            seed=21,
        )
        stats = await fleet.run(asyncio.Event(), duration_s=seconds)
        await gateway.ingestor.drain_rules()
    finally:
        await gateway.stop()
    return stats.sent


def bench_storage(scale: float) -> dict[str, Any]:
    """Bytes stored per terminal message (raw frame, event, series, indexes), from real traffic."""
    from pingantong.demo.simulator.fleet import make_fleet

    terminals = max(50, int(300 * min(scale, 1.0)))
    seconds = max(10.0, 30.0 * min(scale, 1.0))
    # The fleet's terminals are registered, as in production (unknown terminals go to the inbox).
    from pingantong.devices.models import Device, DeviceState

    fleet = make_fleet(terminals, 21, mix=("watch", "jt808"))
    Device.objects.bulk_create(
        [
            Device(
                protocol=d.protocol,
                identity=d.device_id,
                device_type_id="watch" if d.protocol == "watch" else "pendant",
            )
            for d in fleet
        ],
        ignore_conflicts=True,
    )
    DeviceState.objects.bulk_create(
        [DeviceState(device_id=pk) for pk in Device.objects.values_list("pk", flat=True)],
        ignore_conflicts=True,
    )
    rows_before, bytes_before = _telemetry_rows(), _database_bytes()
    sent = asyncio.run(_fleet_traffic(terminals, seconds))
    rows_after, bytes_after = _telemetry_rows(), _database_bytes()
    stored = rows_after["raw_frames"] - rows_before["raw_frames"]
    grown = bytes_after - bytes_before
    per_message = grown / max(1, stored)
    return {
        "figures": [
            {"name": "frames stored", "value": stored, "unit": "frames"},
            {"name": "storage per frame (all tables+indexes)", "value": round(per_message, 1), "unit": "B"},
            {"name": "frames sent by the fleet", "value": sent, "unit": "frames"},
        ],
        "rows_added": {k: rows_after[k] - rows_before[k] for k in rows_after},
        "bytes_added": grown,
    }


# --- telemetry growth: do the device queries stay fast as the series grow? ---------------------


def _fill_positions(devices: list[int], start_rows: int, target_rows: int, base: datetime) -> None:
    """Append positions, one every 5 minutes per device going back in time, with raw executemany."""
    from datetime import timedelta

    from django.db import connection, transaction

    table = "devices_positionrecord"
    columns = "device_id, recorded_at, received_at, latitude, longitude, valid, archived"
    rows = []
    for n in range(start_rows, target_rows):
        device = devices[n % len(devices)]
        when = base - timedelta(minutes=5 * (n // len(devices)))
        rows.append((device, when, when, 26.26 + (n % 97) * 1e-4, 117.63 + (n % 89) * 1e-4, True, False))
    for chunk in range(0, len(rows), 5000):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s)",  # noqa: S608 - constants
                rows[chunk : chunk + 5000],
            )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")


def _query_medians(devices: list[int], base: datetime, repeat: int) -> tuple[float, float]:
    """(latest 10 positions of a device, one device's last hour) medians in ms, via the ORM/selector.

    Both return about the same number of rows at every table size (10 and ≤ 12), so a slowdown can
    only come from the table's growth, not from a bigger answer."""
    import random
    from datetime import timedelta

    from pingantong.devices.models import PositionRecord
    from pingantong.devices.selectors import positions_of_device

    rng = random.Random(7)
    latest, day = [], []
    for _ in range(repeat):
        device = rng.choice(devices)
        started = time.perf_counter()
        list(PositionRecord.objects.filter(device_id=device).order_by("-recorded_at")[:10])
        latest.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        list(positions_of_device(device, base - timedelta(hours=1), base + timedelta(seconds=1)))
        day.append((time.perf_counter() - started) * 1000)
    return statistics.median(latest), statistics.median(day)


def bench_telemetry_growth(scale: float) -> dict[str, Any]:
    """Device track queries as the position table grows 10k → 3M × scale rows (index range scans).

    The issue asks that telemetry tables stay fast as they grow; the (device, time) index of every
    series is the mechanism on both databases (partitions on PostgreSQL add cheap retention)."""
    from django.utils import timezone

    from pingantong.devices.models import Device

    count = 1000
    Device.objects.bulk_create(
        [Device(protocol="watch", identity=f"35048{n:05d}", device_type_id="watch") for n in range(count)],
        ignore_conflicts=True,
    )
    devices = list(Device.objects.filter(identity__startswith="35048").values_list("pk", flat=True))
    base = timezone.now()
    sizes = sorted({10_000, 100_000, max(200_000, int(3_000_000 * scale))})
    figures, filled = [], 0
    first: tuple[float, float] | None = None
    for size in sizes:
        _fill_positions(devices, filled, size, base)
        filled = size
        latest, day = _query_medians(devices, base, repeat=60)
        first = first or (latest, day)
        figures.append(
            {"name": f"latest 10 positions, {size:,} rows", "value": round(latest, 2), "unit": "ms"}
        )
        figures.append(
            {"name": f"one device's last hour, {size:,} rows", "value": round(day, 2), "unit": "ms"}
        )
    assert first is not None
    figures.append(
        {
            "name": f"growth ×{sizes[-1] // sizes[0]}: latest-10 slowdown",
            "value": round(latest / first[0], 2),
            "unit": "×",
        }
    )
    figures.append(
        {
            "name": f"growth ×{sizes[-1] // sizes[0]}: last-hour slowdown",
            "value": round(day / first[1], 2),
            "unit": "×",
        }
    )
    return {"figures": figures, "rows": sizes[-1], "devices": count}
