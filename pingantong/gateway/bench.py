"""`pingantong bench gateway`: messages/s stored and acknowledged, SOS frame→ACK latency, memory
per idle connection, and the ceilings measured in the same run (bare asyncio echo, raw inserts).

The load generator runs in separate processes (multiprocessing, spawn; uvloop, one Protocol per
terminal) so that client and server do not share an event loop or a core. Terminals are JT/T 808
(every 0x0200 position is acknowledged with 0x8001, so "stored and acknowledged" is measurable per
message); each terminal reports every `PINGANTONG_BENCH_INTERVAL` seconds (0.9; 0 = closed loop)
and sends its next position only after the previous one is acknowledged. A few extra connections
send SOS positions at a steady pace and time frame→ACK. docs/gateway.md "Performance" has the
figures; `PINGANTONG_GATEWAY_RULES=process` runs the rules stage in its own process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import resource
import struct
import time
from typing import Any

log = logging.getLogger("pingantong.gateway.bench")

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


# --- load generator (child processes) --------------------------------------------------------------
#
# Several processes (PINGANTONG_BENCH_CLIENT_PROCS, default 2), each on uvloop with one asyncio
# Protocol per terminal and no task per connection: the generator must cost far less than the
# server, or it measures itself (it did: with one process of asyncio streams the bare echo reached
# only ~4,500-8,000 msg/s at 10,000 connections). Every terminal still waits for the ACK of its
# report before the next one.


def _use_uvloop() -> bool:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is in the lock file (uvicorn[standard])
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return True


class _Terminal(asyncio.Protocol):
    """One simulated JT/T 808 terminal: sends a report, counts the 7E-delimited reply, repeats."""

    def __init__(self, gen: _Generator, number: int, sos: bool) -> None:
        self.gen = gen
        self.number = number
        self.sos = sos
        self.transport: asyncio.Transport | None = None
        self.delimiters = 0
        self.serial = 0
        self.sent_at = 0.0
        self.next_send = 0.0
        self.connected: asyncio.Future = gen.loop.create_future()
        self.acked: asyncio.Future | None = None
        self.frames = [_location(0x1 if sos else 0, s, number) for s in range(4)]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        if not self.connected.done():
            self.connected.set_result(True)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.connected.done():
            self.connected.set_result(False)
        if self.acked is not None and not self.acked.done():
            self.acked.set_result(False)
        if self.gen.running:
            self.gen.errors += 1
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.delimiters += data.count(0x7E)
        while self.delimiters >= 2:
            self.delimiters -= 2
            self.on_ack()

    def send(self) -> None:
        if self.transport is None or not self.gen.running:
            return
        self.sent_at = time.perf_counter()
        self.transport.write(self.frames[self.serial & 3])
        self.serial += 1

    def on_ack(self) -> None:
        gen = self.gen
        if self.acked is not None and not self.acked.done():
            self.acked.set_result(True)  # warm-up
            return
        if not gen.running:
            return
        now = time.perf_counter()
        if self.sos:
            gen.latencies.append((now - self.sent_at) * 1000)
            gen.loop.call_later(gen.sos_every, self.send)
            return
        gen.count += 1
        second = int(now - gen.started)
        if second < len(gen.per_second):
            gen.per_second[second] += 1
        if not gen.interval:
            self.send()
            return
        self.next_send = max(self.next_send + gen.interval, now)
        gen.loop.call_later(self.next_send - now, self.send)


class _Generator:
    def __init__(self, interval: float, sos_every: float) -> None:
        self.loop = asyncio.get_running_loop()
        self.interval = interval
        self.sos_every = sos_every
        self.running = False
        self.count = 0
        self.per_second: list[int] = []
        """Reports acknowledged in each second of the run (a stall shows as a dip)."""
        self.started = 0.0
        self.errors = 0
        self.latencies: list[float] = []
        self.terminals: list[_Terminal] = []

    async def connect(self, port: int, numbers: list[int], sos: bool, sem: asyncio.Semaphore) -> None:
        async def one(n: int) -> None:
            async with sem:
                for _ in range(40):
                    term = _Terminal(self, n, sos)
                    try:
                        await self.loop.create_connection(lambda t=term: t, "127.0.0.1", port)  # type: ignore[misc]
                    except OSError:
                        await asyncio.sleep(0.05)
                        continue
                    self.terminals.append(term)
                    return

        await asyncio.gather(*(one(n) for n in numbers))

    async def warm_up(self) -> None:
        async def first(term: _Terminal) -> None:
            if term.transport is None:
                return
            term.acked = self.loop.create_future()
            term.transport.write(_location(0, 9, term.number))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(term.acked, 120)
            term.acked = None

        await asyncio.gather(*(first(t) for t in self.terminals))


def quantile(ordered: list[float], q: float) -> float | None:
    """The `q` quantile of sorted samples (the sample at index ⌊n·q⌋, the last one at most);
    None for no samples."""
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def start_delays(sos: list[bool], interval: float, sos_starts: list[float]) -> list[float]:
    """When each terminal of one generator process sends its first report (seconds after the
    start): the reporting terminals spread over one interval (terminals do not report in lock
    step), the calls for help at `sos_starts`, in order (see `plan_parts`)."""
    starts = iter(sos_starts)
    return [next(starts) if is_sos else (interval or 0.0) * (i % 100) / 100 for i, is_sos in enumerate(sos)]


async def _load_part(
    port: int,
    numbers: list[int],
    sos_numbers: list[int],
    duration: float,
    interval: float,
    sos_every: float,
    sos_starts: list[float],
    ready: Any,
    go: Any,
) -> dict[str, Any]:
    gen = _Generator(interval, sos_every)
    sem = asyncio.Semaphore(256)
    await gen.connect(port, numbers, False, sem)
    await gen.connect(port, sos_numbers, True, sem)
    warm_started = time.perf_counter()
    await gen.warm_up()
    warm_up = time.perf_counter() - warm_started
    loop = asyncio.get_running_loop()
    ready.put(warm_up)
    await loop.run_in_executor(None, go.wait)
    cpu_started = time.process_time()
    gen.per_second = [0] * (int(duration) + 1)
    gen.running = True
    started = gen.started = time.perf_counter()
    delays = start_delays([t.sos for t in gen.terminals], interval, sos_starts)
    for term, delay in zip(gen.terminals, delays, strict=True):
        term.next_send = started + delay
        loop.call_later(delay, term.send)
    await asyncio.sleep(duration)
    gen.running = False
    elapsed = time.perf_counter() - started
    for term in gen.terminals:
        if term.transport is not None:
            term.transport.close()
    await asyncio.sleep(0.1)
    return {
        "connected": sum(1 for t in gen.terminals if not t.sos),
        "sos_connected": sum(1 for t in gen.terminals if t.sos),
        "warm_up_s": warm_up,
        "messages": gen.count,
        "elapsed": elapsed,
        "cpu_s": time.process_time() - cpu_started,
        "errors": gen.errors,
        "latencies": gen.latencies,
        "per_second": gen.per_second,
    }


def _load_child(args: tuple[Any, ...], results: Any, ready: Any, go: Any) -> None:
    from pingantong.gateway.gctune import tune_gc_for_gateway

    _raise_nofile()
    _use_uvloop()
    tune_gc_for_gateway()  # the generator holds 10,000 terminals too: it must not measure its collector
    port, numbers, sos_numbers, duration, interval, sos_every, sos_starts, apart = args
    result = asyncio.run(
        _load_part(port, numbers, sos_numbers, duration, interval, sos_every, sos_starts, ready, go)
    )
    results.put({**result, "apart": apart})


SOS_CALLERS = ("apart", "generators", "split")


def sos_callers_mode(requested: str | None = None) -> str:
    """Where the terminals that call for help run (`PINGANTONG_BENCH_SOS_CALLERS`, decision 0138):
    `apart` (the default) in a generator process of their own, as a watch is a device of its
    own; `generators` among the reporting terminals, as before decision 0138, so that their
    frame→ACK also holds the wait for a generator loop busy with 5,000 other terminals; `split`
    half of them each way, in the same run (the figures are the `apart` half's, the other half's
    beside them as `sos_in_generators_*`)."""
    mode = requested if requested is not None else os.environ.get("PINGANTONG_BENCH_SOS_CALLERS", "apart")
    mode = mode.strip().lower() or "apart"
    if mode not in SOS_CALLERS:
        raise ValueError(
            f"PINGANTONG_BENCH_SOS_CALLERS must be one of {', '.join(SOS_CALLERS)}, not {mode!r}"
        )
    return mode


def plan_parts(
    connections: int, sos_connections: int, procs_wanted: int, mode: str, sos_every: float = 2.0
) -> list[tuple[list[int], list[int], list[float], bool]]:
    """The generator processes of one load: (reporting terminals, calling terminals, when each
    caller first presses, whether the callers run apart from reporting terminals). The reporting
    terminals are dealt over `procs_wanted` processes; the callers into those or into one more
    process. Calls for help are independent: the callers press in turn, evenly over one period,
    whichever process they run in (ten pressed within 80 ms of each other every 2 s measured each
    one's wait behind the alarms of the others)."""
    numbers = list(range(connections))
    sos_numbers = list(range(connections, connections + sos_connections))
    turn = {n: sos_every * i / max(1, sos_connections) for i, n in enumerate(sos_numbers)}
    if mode == "generators":
        among, apart = sos_numbers, []
    elif mode == "split":
        among, apart = sos_numbers[1::2], sos_numbers[0::2]
    else:
        among, apart = [], sos_numbers
    parts = []
    for k in range(procs_wanted):
        callers = among[k::procs_wanted]
        parts.append((numbers[k::procs_wanted], callers, [turn[n] for n in callers], False))
    if apart:
        parts.append(([], apart, [turn[n] for n in apart], True))
    return parts


async def _load(
    port: int,
    connections: int,
    sos_connections: int,
    duration: float,
    interval: float = 0.0,
    sos_every: float = 2.0,
) -> dict[str, Any]:
    """Run the load generator processes against `port`; the reporting terminals are spread over
    them, the calling terminals run as `sos_callers_mode()` says."""
    procs_wanted = max(1, int(os.environ.get("PINGANTONG_BENCH_CLIENT_PROCS", "2")))
    mode = sos_callers_mode()
    ctx = multiprocessing.get_context("spawn")
    results, ready, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = []
    for numbers, sos_numbers, sos_starts, apart in plan_parts(
        connections, sos_connections, procs_wanted, mode, sos_every
    ):
        args = (port, numbers, sos_numbers, duration, interval, sos_every, sos_starts, apart)
        proc = ctx.Process(target=_load_child, args=(args, results, ready, go), daemon=True)
        proc.start()
        procs.append(proc)
    loop = asyncio.get_running_loop()
    warm = [await loop.run_in_executor(None, ready.get) for _ in procs]
    go.set()
    parts = [await loop.run_in_executor(None, results.get) for _ in procs]
    for proc in procs:
        await loop.run_in_executor(None, proc.join, 30)
    among = sorted(x for p in parts if not p["apart"] for x in p["latencies"])
    latencies = sorted(x for p in parts if p["apart"] == (mode != "generators") for x in p["latencies"])
    messages = sum(p["messages"] for p in parts)
    elapsed = max(p["elapsed"] for p in parts)
    return {
        "processes": len(procs),
        "connected": sum(p["connected"] for p in parts),
        "sos_connected": sum(p["sos_connected"] for p in parts),
        "warm_up_s": max(warm),
        "offered_rate": connections / interval if interval else None,
        "messages": messages,
        "rate": messages / elapsed,
        "errors": sum(p["errors"] for p in parts),
        "acked_per_second": [sum(counts) for counts in zip(*(p["per_second"] for p in parts), strict=True)],
        "generator_cpu_us_per_message": round(sum(p["cpu_s"] for p in parts) / max(1, messages) * 1e6, 1),
        "sos_samples": len(latencies),
        "sos_p50_ms": quantile(latencies, 0.5),
        "sos_p99_ms": quantile(latencies, 0.99),
        "sos_max_ms": latencies[-1] if latencies else None,
        "sos_latencies_ms": [round(x, 2) for x in latencies],
        "sos_callers": mode,
        **(
            {
                "sos_in_generators_p50_ms": quantile(among, 0.5),
                "sos_in_generators_p99_ms": quantile(among, 0.99),
                "sos_in_generators_latencies_ms": [round(x, 2) for x in among],
            }
            if mode == "split"
            else {}
        ),
    }


async def _idle(port: int, connections: int, hold: float, ready: Any) -> dict[str, Any]:
    from pingantong.gateway.protocols.jt808.encoder import build_message

    loop = asyncio.get_running_loop()
    gen = _Generator(0.0, 0.0)
    await gen.connect(port, list(range(100_000, 100_000 + connections)), False, asyncio.Semaphore(256))

    async def heartbeat(term: _Terminal) -> None:
        if term.transport is None:
            return
        term.acked = loop.create_future()
        term.transport.write(build_message(0x0002, _phone(term.number), 1))  # identified session
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(term.acked, 120)

    await asyncio.gather(*(heartbeat(t) for t in gen.terminals))
    ready.set()
    await asyncio.sleep(hold)
    for term in gen.terminals:
        if term.transport is not None:
            term.transport.close()
    return {"connected": len(gen.terminals)}


def _raise_nofile() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _client(kind: str, args: tuple, results: Any, ready: Any) -> None:
    _raise_nofile()
    _use_uvloop()
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


class _Echo(asyncio.Protocol):
    """The bare server: answers every 7E-delimited frame with a fixed 7E frame (no decode, no DB)."""

    REPLY = bytes.fromhex("7e8001000501390000000000000002000000007e")

    def __init__(self) -> None:
        self.delimiters = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.delimiters += data.count(0x7E)
        frames, self.delimiters = divmod(self.delimiters, 2)
        if frames and self.transport is not None:
            self.transport.write(self.REPLY * frames)


async def _echo_ceiling(connections: int, sos: int, duration: float, interval: float) -> dict[str, Any]:
    """The same load against a bare asyncio (uvloop) echo server in this process: with the
    offered load of the gateway run (`interval`) and closed loop (as fast as it answers)."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Echo, "127.0.0.1", 0, backlog=4096)
    port = server.sockets[0].getsockname()[1]
    try:
        closed = await _load(port, connections, sos, duration, 0.0)
        offered = await _load(port, connections, sos, duration, interval) if interval else closed
    finally:
        server.close()
    return {"closed_loop": closed, "offered": offered}


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def _machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs from /proc/stat (Linux; zeros elsewhere)."""
    try:
        with open("/proc/stat") as fh:
            values = [int(v) for v in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return float(sum(values) - idle), float(sum(values))


def _stat_cpu(path: str) -> float:
    """CPU seconds (user + system) from a /proc …/stat file; 0 if it cannot be read."""
    try:
        with open(path) as fh:
            stat = fh.read()
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def _database_server_cpu() -> float | None:
    """CPU seconds of the PostgreSQL server's processes on this machine (backends, WAL writer,
    checkpointer, autovacuum); None on SQLite (in the gateway's own processes) or a remote server.
    A backend that exits in between takes its seconds with it: the gateway's connections do not."""
    from django.db import connection

    if connection.vendor != "postgresql" or connection.settings_dict.get("HOST") not in (
        "",
        "127.0.0.1",
        "localhost",
        "::1",
    ):
        return None
    total = 0.0
    with contextlib.suppress(OSError):
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/comm") as fh:
                    if fh.read().strip() != "postgres":
                        continue
            except OSError:
                continue
            total += _stat_cpu(f"/proc/{pid}/stat")
    return total


def _process_cpu(pid: int | None) -> float:
    """CPU seconds of another process (the ingest writer process); 0 if none."""
    return 0.0 if pid is None else _stat_cpu(f"/proc/{pid}/stat")


def _writer_pid(gateway: Any) -> int | None:
    writer = gateway.ingestor.writer_process
    return writer.pid if writer is not None else None


def _thread_cpu() -> dict[str, float]:
    """CPU seconds (user + system) of this process's threads by Python thread name, digits
    dropped ("MainThread" is the event loop; "ingest-writer_", "rules_", "wal-checkpoint_"…)."""
    import threading

    names = {t.native_id: t.name.rstrip("0123456789") for t in threading.enumerate()}
    out: dict[str, float] = {}
    with contextlib.suppress(OSError):
        for tid in os.listdir("/proc/self/task"):
            name = names.get(int(tid), "other")
            out[name] = out.get(name, 0.0) + _stat_cpu(f"/proc/self/task/{tid}/stat")
    return out


def _raw_insert_ceiling(rows: int) -> float:
    """Messages/s for inserting the same rows per message as the gateway (raw frame, event, position,
    the event's place in the rules queue), 1000 messages per commit, through the gateway's own
    insert: the database's own ceiling for the gateway's writes."""
    from django.db import connection, transaction
    from django.utils import timezone

    from pingantong.devices.models import DeviceEventRecord, PositionRecord, RawFrame, UnprocessedEvent
    from pingantong.gateway.ingest.store import (
        EVENT_COLUMNS,
        POSITION_COLUMNS,
        QUEUE_COLUMNS,
        RAW_COLUMNS,
        _allocate,
        _insert,
        json_column,
    )

    now = connection.ops.adapt_datetimefield_value(timezone.now())
    js = json_column()
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
                            js("[]"),
                            now,
                            now,
                            False,
                            1,
                            js("{}"),
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
                _insert(
                    cur, UnprocessedEvent._meta.db_table, QUEUE_COLUMNS, [("bench", e) for e in event_ids]
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
    duration = float(os.environ.get("PINGANTONG_BENCH_SECONDS", max(10.0, 30.0 * scale)))
    # Offered load: each terminal reports every `interval` s and waits for the ACK of its report
    # (0 = closed loop). 0.9 s offers 11,111 msg/s at 10,000 connections, so that the target
    # (10,000 stored and acknowledged per second) can be met, not only approached.
    interval = float(os.environ.get("PINGANTONG_BENCH_INTERVAL", "0.9"))
    # The target phase: 10,000 terminals reporting every second offer the target's 10,000 msg/s
    # (at reduced scales, the same pace from fewer terminals).
    target_interval = float(os.environ.get("PINGANTONG_BENCH_TARGET_INTERVAL", "1.0"))
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
        log.info("load phase: %d terminals for %.0f s", connections, duration)
        cpu_before, stored_before = _cpu_seconds(), gateway.ingestor.metrics.frames_stored
        threads_before = _thread_cpu()
        # With PINGANTONG_GATEWAY_WRITER=process the writer's CPU is the gateway's too (decision 0125).
        threads_before["ingest-writer-process"] = _process_cpu(_writer_pid(gateway))
        machine_before = _machine_cpu()
        server_before = await loop.run_in_executor(None, _database_server_cpu)
        load = await _load(ports["jt808"], connections, sos, duration, interval)
        server_after = await loop.run_in_executor(None, _database_server_cpu)
        machine_after = _machine_cpu()
        machine_busy = (machine_after[0] - machine_before[0]) / max(1.0, machine_after[1] - machine_before[1])
        threads_after = _thread_cpu()
        threads_after["ingest-writer-process"] = _process_cpu(_writer_pid(gateway))
        cpu_load = _cpu_seconds() - cpu_before
        cpu_load += threads_after["ingest-writer-process"] - threads_before["ingest-writer-process"]
        stored_load = gateway.ingestor.metrics.frames_stored - stored_before
        server_us = (
            round((server_after - server_before) / max(1, stored_load) * 1e6, 1)
            if server_before is not None and server_after is not None
            else None
        )
        per_thread_us = {
            name: round((seconds - threads_before.get(name, 0.0)) / max(1, stored_load) * 1e6, 1)
            for name, seconds in threads_after.items()
            if seconds - threads_before.get(name, 0.0) > 0
        }
        drain_started = time.perf_counter()
        await gateway.ingestor.drain_rules()
        rules_lag = time.perf_counter() - drain_started
        # The latency target is "at that load": 10,000 msg/s. The phase above offers more than
        # the target (to show whether it is carried); this one offers the target itself, each
        # terminal reporting every `target_interval` s, on the same (now larger) database.
        log.info("target phase: %d terminals every %.2f s for %.0f s", connections, target_interval, duration)
        at_target = await _load(ports["jt808"], connections, sos, duration, target_interval)
        await gateway.ingestor.drain_rules()
        metrics = gateway.listeners["jt808"].metrics.as_dict()
        ingest = gateway.ingestor.stats()
    finally:
        await gateway.stop()
    echo = await _echo_ceiling(connections, sos, min(duration, 15.0), interval)
    raw_rate = await loop.run_in_executor(None, _raw_insert_ceiling, max(5_000, int(50_000 * scale)))
    per_conn = (rss_after - rss_before) / max(1, open_now)
    ceiling = echo["closed_loop"]
    return {
        "figures": [
            {
                "name": "messages stored+acked /s",
                "value": round(load["rate"], 1),
                "unit": "msg/s",
                "target": TARGET_RATE,
                "ceiling": round(ceiling["rate"], 1),
            },
            {"name": "offered load /s", "value": round(load["offered_rate"] or 0, 1), "unit": "msg/s"},
            {
                "name": "echo at the same offered load /s",
                "value": round(echo["offered"]["rate"], 1),
                "unit": "msg/s",
            },
            {"name": "raw inserts (same rows) /s", "value": round(raw_rate, 1), "unit": "msg/s"},
            {"name": "concurrent connections", "value": load["connected"], "unit": "conn", "target": 10_000},
            {"name": "SOS frame→ACK p50", "value": load["sos_p50_ms"], "unit": "ms"},
            {"name": "SOS frame→ACK p99", "value": load["sos_p99_ms"], "unit": "ms"},
            {
                "name": "offered at the target rate /s",
                "value": round(at_target["offered_rate"] or 0, 1),
                "unit": "msg/s",
            },
            {"name": "… stored+acked /s", "value": round(at_target["rate"], 1), "unit": "msg/s"},
            {"name": "… SOS frame→ACK p50", "value": at_target["sos_p50_ms"], "unit": "ms"},
            {
                "name": "… SOS frame→ACK p99",
                "value": at_target["sos_p99_ms"],
                "unit": "ms",
                "target": TARGET_SOS_P99_MS,
                "ceiling": echo["offered"]["sos_p99_ms"],
            },
            {
                "name": "gateway CPU per message (all threads)",
                "value": round(cpu_load / max(1, stored_load) * 1e6, 1),
                "unit": "µs",
            },
            {"name": "rules stage behind at the end", "value": round(rules_lag, 2), "unit": "s"},
            {
                "name": "rules process CPU per event",
                "value": ingest.get("rules_cpu_us_per_event"),
                "unit": "µs",
            },
            {"name": "database server CPU per message (PostgreSQL here)", "value": server_us, "unit": "µs"},
            {
                "name": "load generator CPU per message",
                "value": load["generator_cpu_us_per_message"],
                "unit": "µs",
            },
            {"name": "machine CPU busy during the load", "value": round(machine_busy * 100, 1), "unit": "%"},
            {
                "name": "memory per idle connection",
                "value": round(per_conn / 1, 2),
                "unit": "KiB",
                "target": TARGET_IDLE_KIB,
            },
            {"name": "idle connections held", "value": open_now, "unit": "conn", "target": 15_000},
        ],
        "load": load,
        "at_target": at_target,
        "echo": echo,
        "idle": {**idle_result, "rss_before_kib": rss_before, "rss_after_kib": rss_after},
        "listener": metrics,
        "ingest": ingest,
        "gateway_cpu_s": cpu_load,
        "gateway_cpu_us_per_message_by_thread": per_thread_us,
        "machine_busy_during_load": round(machine_busy, 3),
        "database_server_cpu_us_per_message": server_us,
        "database": connection.vendor,
        "cpus": len(os.sched_getaffinity(0)),
        "loadavg": os.getloadavg(),
    }


def bench_gateway(scale: float) -> dict:
    """Gateway: msg/s stored+acked, SOS p50/p99 frame→ACK, KiB per idle connection (+ ceilings)."""
    _raise_nofile()
    policy = asyncio.get_event_loop_policy()
    _use_uvloop()  # the gateway's loop in production (`pingantong run`) is uvloop as well
    try:
        return asyncio.run(_run(scale))
    finally:
        asyncio.set_event_loop_policy(policy)
