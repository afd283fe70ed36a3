"""`pingantong bench gateway`: messages/s stored and acknowledged, SOS frame→ACK latency, memory
per idle connection, and the ceilings measured in the same run (bare asyncio echo, raw inserts).

The load generator runs in its own process (multiprocessing, spawn) so that client and server do
not share an event loop or a core. Terminals are JT/T 808 (every 0x0200 position is acknowledged
with 0x8001, so "stored and acknowledged" is measurable per message); each connection sends its
next position as soon as the previous one is acknowledged (closed loop). A few extra connections
send SOS positions at a steady pace and time frame→ACK.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import resource
import struct
import time
from typing import Any

TARGET_RATE = 10_000
TARGET_SOS_P99_MS = 50.0
TARGET_IDLE_KIB = 20.0


def _phone(n: int) -> bytes:
    return bytes.fromhex(f"{13_900_000_000 + n:012d}")


def _location(alarm: int, serial: int, n: int) -> bytes:
    from pingantong.gateway.protocols.jt808.encoder import build_message

    body = struct.pack(">IIIIHHH", alarm, 0x2, 26_263_406 + n, 117_639_612, 120, 30, 90)
    body += bytes.fromhex("261128101010") + bytes((0x01, 4)) + struct.pack(">I", serial)
    return build_message(0x0200, _phone(n), serial, body)


# --- load generator (child process) ---------------------------------------------------------------


async def _open(port: int, count: int, offset: int, sem: asyncio.Semaphore) -> list[Any]:
    async def one(i: int) -> Any:
        async with sem:
            for _ in range(20):
                try:
                    return await asyncio.open_connection("127.0.0.1", port)
                except OSError:
                    await asyncio.sleep(0.05)
            return None

    conns = await asyncio.gather(*(one(offset + i) for i in range(count)))
    return [c for c in conns if c is not None]


async def _ack(reader: asyncio.StreamReader) -> None:
    await reader.readuntil(b"\x7e")
    await reader.readuntil(b"\x7e")


async def _load(
    port: int, connections: int, sos_connections: int, duration: float, interval: float = 0.0
) -> dict[str, Any]:
    sem = asyncio.Semaphore(400)
    conns = await _open(port, connections, 0, sem)
    sos = await _open(port, sos_connections, connections, sem)
    # Warm-up: every terminal is identified and acknowledged once (a reconnect storm), then the
    # timed window measures the steady state.
    warm_started = time.perf_counter()

    async def first(i: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            writer.write(_location(0, 9, i))
            await _ack(reader)

    await asyncio.gather(*(first(i, r, w) for i, (r, w) in enumerate(conns + sos)))
    warm_up = time.perf_counter() - warm_started
    stop = time.perf_counter() + duration
    counts = [0]
    latencies: list[float] = []
    errors = [0]

    async def position_loop(i: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        serial = 0
        frames = [_location(0, s, i) for s in range(4)]
        # Like a real terminal: one report every `interval` seconds, the next only after the ACK.
        # interval 0 = closed loop (send again as soon as acknowledged).
        next_send = time.perf_counter() + (interval * (i % 100) / 100 if interval else 0)
        try:
            while time.perf_counter() < stop:
                if interval:
                    delay = next_send - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    next_send = max(next_send + interval, time.perf_counter())
                writer.write(frames[serial % 4])
                serial += 1
                await _ack(reader)
                counts[0] += 1
        except (OSError, asyncio.IncompleteReadError):
            errors[0] += 1

    async def sos_loop(i: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        serial = 0
        try:
            while time.perf_counter() < stop:
                frame = _location(0x1, serial, connections + i)
                serial += 1
                t0 = time.perf_counter()
                writer.write(frame)
                await _ack(reader)
                latencies.append((time.perf_counter() - t0) * 1000)
                await asyncio.sleep(2.0)
        except (OSError, asyncio.IncompleteReadError):
            errors[0] += 1

    started = time.perf_counter()
    await asyncio.gather(
        *(position_loop(i, r, w) for i, (r, w) in enumerate(conns)),
        *(sos_loop(i, r, w) for i, (r, w) in enumerate(sos)),
    )
    elapsed = time.perf_counter() - started
    for _r, w in conns + sos:
        w.close()
    latencies.sort()
    return {
        "connected": len(conns),
        "warm_up_s": warm_up,
        "messages": counts[0],
        "rate": counts[0] / elapsed,
        "errors": errors[0],
        "sos_samples": len(latencies),
        "sos_p50_ms": latencies[len(latencies) // 2] if latencies else None,
        "sos_p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else None,
    }


async def _idle(port: int, connections: int, hold: float, ready: Any) -> dict[str, Any]:
    from pingantong.gateway.protocols.jt808.encoder import build_message

    sem = asyncio.Semaphore(400)
    conns = await _open(port, connections, 100_000, sem)
    for i, (_r, w) in enumerate(conns):
        w.write(build_message(0x0002, _phone(100_000 + i), 1))  # one heartbeat: identified session
    await asyncio.gather(*(_ack(r) for r, _w in conns), return_exceptions=True)
    ready.set()
    await asyncio.sleep(hold)
    for _r, w in conns:
        w.close()
    return {"connected": len(conns)}


def _raise_nofile() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _client(kind: str, args: tuple, results: Any, ready: Any) -> None:
    _raise_nofile()
    if kind == "load":
        results.put(asyncio.run(_load(*args)))
    else:
        results.put(asyncio.run(_idle(args[0], args[1], args[2], ready)))


def _spawn(kind: str, *args: Any) -> tuple[Any, Any, Any]:
    ctx = multiprocessing.get_context("spawn")
    results, ready = ctx.Queue(), ctx.Event()
    proc = ctx.Process(target=_client, args=(kind, args, results, ready), daemon=True)
    proc.start()
    return proc, results, ready


async def _wait_result(proc: Any, results: Any) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    value = await loop.run_in_executor(None, results.get)
    await loop.run_in_executor(None, proc.join, 30)
    return dict(value)


# --- server side (this process) ------------------------------------------------------------------


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def _echo_ceiling(connections: int, sos: int, duration: float) -> dict[str, Any]:
    """A bare asyncio server answering every 7E frame with a fixed 7E frame: no decode, no DB."""
    reply = bytes.fromhex("7e8001000501390000000000000002000000007e")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            while True:
                await reader.readuntil(b"\x7e")
                await reader.readuntil(b"\x7e")
                writer.write(reply)
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
    port = server.sockets[0].getsockname()[1]
    proc, results, _ready = _spawn("load", port, connections, sos, duration)
    outcome = await _wait_result(proc, results)
    server.close()
    return outcome


def _raw_insert_ceiling(rows: int) -> float:
    """Messages/s for inserting the same three rows per message (raw frame, event, position) with
    executemany, 1000 messages per commit: the database's own ceiling for the gateway's writes."""
    from django.db import connection, transaction
    from django.utils import timezone

    from pingantong.devices.models import DeviceEventRecord, PositionRecord, RawFrame
    from pingantong.gateway.ingest.store import (
        EVENT_COLUMNS,
        POSITION_COLUMNS,
        RAW_COLUMNS,
        _allocate,
        _insert,
    )

    now = connection.ops.adapt_datetimefield_value(timezone.now())
    device_id = PositionRecord.objects.values_list("device_id", flat=True).first()
    frame = _location(0, 1, 1)
    started = time.perf_counter()
    with connection.cursor() as cur:
        for start in range(0, rows, 1000):
            n = min(1000, rows - start)
            with transaction.atomic():
                raw_ids = _allocate(cur, RawFrame._meta.db_table, n)
                event_ids = _allocate(cur, DeviceEventRecord._meta.db_table, n)
                _insert(
                    cur,
                    RawFrame._meta.db_table,
                    RAW_COLUMNS,
                    [
                        (i, "jt808", device_id, "13900000001", "127.0.0.1:1", now, frame, "", "bench")
                        for i in raw_ids
                    ],
                )
                _insert(
                    cur,
                    DeviceEventRecord._meta.db_table,
                    EVENT_COLUMNS,
                    [
                        (
                            e,
                            device_id,
                            "jt808",
                            "13900000001",
                            "0x0200",
                            "position",
                            "[]",
                            now,
                            now,
                            False,
                            1,
                            "{}",
                            r,
                            "bench",
                        )
                        for e, r in zip(event_ids, raw_ids, strict=True)
                    ],
                )
                _insert(
                    cur,
                    PositionRecord._meta.db_table,
                    POSITION_COLUMNS,
                    [
                        (device_id, now, now, e, 26.26, 117.63, True, 10.0, 90.0, 120.0, 8, False)
                        for e in event_ids
                    ],
                )
    return rows / (time.perf_counter() - started)


def _register(count: int, offset: int) -> None:
    from pingantong.devices.models import Device, DeviceState

    devices = [
        Device(protocol="jt808", identity=str(13_900_000_000 + offset + i), device_type_id="jt808_tracker")
        for i in range(count)
    ]
    Device.objects.bulk_create(devices, batch_size=1000, ignore_conflicts=True)
    ids = Device.objects.filter(protocol="jt808").values_list("pk", flat=True)
    DeviceState.objects.bulk_create(
        [DeviceState(device_id=pk) for pk in ids], batch_size=1000, ignore_conflicts=True
    )


async def _run(scale: float) -> dict[str, Any]:
    from django.db import connection

    from pingantong.gateway.listeners import Gateway, ListenerLimits

    connections = max(50, int(10_000 * scale))
    idle = max(50, int(15_000 * scale))
    sos = 10  # each presses SOS every 2 s: 5 alarms/s, far above a district's real rate
    duration = max(10.0, 15.0 * scale)
    # Offered load: each terminal reports once a second (10,000/s at scale 1), or closed loop.
    interval = float(os.environ.get("PINGANTONG_BENCH_INTERVAL", "1.0"))
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, _register, connections + sos, 0)

    gateway = Gateway(
        {"jt808": 0}, host="127.0.0.1", node="bench", limits=ListenerLimits(max_connections=40_000)
    )
    ports = await gateway.start()
    try:
        # Idle first, on a process that has not yet grown its heap under load, so that the RSS
        # delta is the sessions' cost and not memory freed by the load phase being reused.
        await asyncio.sleep(1.0)
        rss_before = _rss_kib()
        proc, results, ready = _spawn("idle", ports["jt808"], idle, 5.0)
        await loop.run_in_executor(None, ready.wait, 600)
        await asyncio.sleep(2.0)
        open_now = gateway.listeners["jt808"].metrics.connections_open
        rss_after = _rss_kib()
        idle_result = await _wait_result(proc, results)
        await asyncio.sleep(1.0)
        proc, results, _ready = _spawn("load", ports["jt808"], connections, sos, duration, interval)
        load = await _wait_result(proc, results)
        await gateway.ingestor.drain_rules()
        metrics = gateway.listeners["jt808"].metrics.as_dict()
        ingest = vars(gateway.ingestor.metrics).copy()
    finally:
        await gateway.stop()
    echo = await _echo_ceiling(connections, sos, min(duration, 10.0))
    raw_rate = await loop.run_in_executor(None, _raw_insert_ceiling, max(5_000, int(50_000 * scale)))
    per_conn = (rss_after - rss_before) / max(1, open_now)
    return {
        "figures": [
            {
                "name": "messages stored+acked /s",
                "value": round(load["rate"], 1),
                "unit": "msg/s",
                "target": TARGET_RATE,
                "ceiling": round(echo["rate"], 1),
            },
            {"name": "raw inserts (same rows) /s", "value": round(raw_rate, 1), "unit": "msg/s"},
            {"name": "concurrent connections", "value": load["connected"], "unit": "conn", "target": 10_000},
            {"name": "SOS frame→ACK p50", "value": load["sos_p50_ms"], "unit": "ms"},
            {
                "name": "SOS frame→ACK p99",
                "value": load["sos_p99_ms"],
                "unit": "ms",
                "target": TARGET_SOS_P99_MS,
                "ceiling": echo["sos_p99_ms"],
            },
            {
                "name": "memory per idle connection",
                "value": round(per_conn / 1, 2),
                "unit": "KiB",
                "target": TARGET_IDLE_KIB,
            },
            {"name": "idle connections held", "value": open_now, "unit": "conn", "target": 15_000},
        ],
        "load": load,
        "echo": echo,
        "idle": {**idle_result, "rss_before_kib": rss_before, "rss_after_kib": rss_after},
        "listener": metrics,
        "ingest": ingest,
        "database": connection.vendor,
        "cpus": len(os.sched_getaffinity(0)),
    }


def bench_gateway(scale: float) -> dict:
    """Gateway: msg/s stored+acked, SOS p50/p99 frame→ACK, KiB per idle connection (+ ceilings)."""
    _raise_nofile()
    return asyncio.run(_run(scale))
