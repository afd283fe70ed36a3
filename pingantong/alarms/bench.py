"""Benchmarks of the alarm centre (`pingantong bench sos_to_websocket alarm_screens`).

`sos_to_websocket`: what an agent's browser waits for, end to end through the real stack: a watch
sends an SOS over TCP to the gateway listener; the frame is stored, acknowledged, run through the
rules, the alarm is raised and its row pushed; we stop the clock when a logged-in console's
*websocket* (uvicorn serving `pingantong.asgi`, the same loop as the gateway as under `pingantong
run`) receives the row. The bench app's `sos_to_screen` stops at the channel layer; this one adds
the ASGI server, the consumer and the socket.

`alarm_screens`: the queue page, the open-alarms API and the alarm screen, server-side time per
request (Django test client), on a database with many clients, closed alarms and device events.
"""

from __future__ import annotations

import asyncio
import json
import socket
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

TARGET_P99_MS = 1000.0
TARGET_SCREEN_MEDIAN_MS = 200.0


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return round(ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))], 2)


def _agent_cookie() -> tuple[str, Any]:
    from django.test import Client

    from pingantong.accounts.models import RoleAssignment, User
    from pingantong.regions.models import Region

    Region.objects.get_or_create(code="350404000000", defaults={"name": "三元区", "level": 3})
    user, _ = User.objects.get_or_create(username="bench-agent", defaults={"display_name": "压测坐席"})
    RoleAssignment.objects.get_or_create(user=user, role="agent", region_id="350404000000")
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value, user


def _sos_frame(identity: str) -> bytes:
    now = datetime.now(UTC)
    body = f"AL,{now:%d%m%y},{now:%H%M%S},A,26.263406,N,117.639612,E,0,0,50,8,90,79,1200,0,00010000,0"
    return f"[3G*{identity}*{len(body):04x}*{body}]".encode()


async def _login(port: int, identity: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"[3G*{identity}*000B*LK,0,10,100]".encode())
    await reader.readuntil(b"]")
    return reader, writer


async def _measure_ws(
    count: int, *, load_terminals: int = 0, load_seconds: float = 0.0, spacing: float = 0.0
) -> dict[str, Any]:
    """`count` SOS rounds; with `load_terminals`, while that many JT/T 808 terminals report every
    0.9 s (the gateway benchmark's generator, in its own processes) for `load_seconds`."""
    import uvicorn
    import websockets

    from pingantong.alarms import live
    from pingantong.gateway.listeners import Gateway, ListenerLimits

    loop = asyncio.get_running_loop()
    if load_terminals:
        from pingantong.gateway.bench import _raise_nofile, _register

        _raise_nofile()
        await loop.run_in_executor(None, _register, load_terminals, 0)
    session, _user = await loop.run_in_executor(None, _agent_cookie)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    from pingantong.asgi import application

    server = uvicorn.Server(
        uvicorn.Config(application, lifespan="off", log_level="warning", ws_ping_interval=None)
    )
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign,attr-defined]
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    gateway = Gateway(
        {"watch": 0, "jt808": 0} if load_terminals else {"watch": 0},
        host="127.0.0.1",
        node="bench-ws",
        downlinks=False,
        recover=False,
        limits=ListenerLimits(max_connections=40_000),
    )
    ports = await gateway.start()
    while not server.started:
        await asyncio.sleep(0.02)
    live.register_console_loop(loop)
    # As under `pingantong run`: the web side's alarm relay carries alarms written by another
    # process (the gateway's rules process, PINGANTONG_GATEWAY_RULES=process) to the consoles when
    # there is no Redis; with the rules in this process it finds nothing left to push.
    stop = asyncio.Event()
    relaying = asyncio.create_task(live.relay(stop)) if live.relay_needed() else None
    screen: list[float] = []
    ack: list[float] = []
    sent: list[float] = []
    seen: set[Any] = set()
    loading: asyncio.Task | None = None
    stored_before = 0
    watches: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    try:
        if load_terminals:
            # The SOS watches log in before the load: under load a login's reply waits behind the
            # fleet's reports (it is not urgent), and only the SOS is timed.
            watches = [await _login(ports["watch"], f"35040{n:05d}") for n in range(count)]
            from pingantong.gateway.bench import _load

            loading = asyncio.create_task(_load(ports["jt808"], load_terminals, 0, load_seconds, 0.9))
            # Wait for the fleet to connect and report once, then 5 s of load (the rules stage
            # falls behind), before the first SOS.
            deadline = time.monotonic() + 300
            while gateway.ingestor.metrics.frames_stored < load_terminals:
                if loading.done() or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.2)
            await asyncio.sleep(5.0)
            stored_before = gateway.ingestor.metrics.frames_stored
            load_started = time.perf_counter()
        async with websockets.connect(
            f"ws://127.0.0.1:{port}/ws/alarms/",
            additional_headers={"Cookie": f"sessionid={session}", "Origin": f"http://127.0.0.1:{port}"},
        ) as ws:
            hello = json.loads(await ws.recv())
            assert hello["type"] == "hello", hello
            for n in range(count):
                if loading is not None and loading.done():
                    break  # the load is over: only SOS under load count here
                if spacing and n:
                    await asyncio.sleep(spacing)
                identity = f"35040{n:05d}"
                if n < len(watches):
                    reader, writer = watches[n]
                else:
                    reader, writer = await _login(ports["watch"], identity)
                started = time.perf_counter()
                writer.write(_sos_frame(identity))
                await reader.readuntil(b"]")
                ack.append((time.perf_counter() - started) * 1000)
                while True:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 30))
                    # The first push of an alarm not seen before: "raised" from this process's
                    # rules, "relay" when the rules run in a process of their own.
                    if (
                        message.get("type") == "alarm"
                        and message.get("event") in ("raised", "relay")
                        and message.get("id") not in seen
                    ):
                        seen.add(message.get("id"))
                        break
                screen.append((time.perf_counter() - started) * 1000)
                sent.append(started)
                writer.close()
        # Each SOS's time (s after the first), ACK and screen latencies: an outlier can be matched
        # with what the gateway and the rules were doing at that moment.
        samples = [
            [round(at - sent[0], 3), round(a, 1), round(w, 1)]
            for at, a, w in zip(sent, ack, screen, strict=True)
        ]
        out: dict[str, Any] = {"ack": ack, "screen": screen, "samples": samples}
        if loading is not None:
            sos_done = time.perf_counter()
            stored_during = gateway.ingestor.metrics.frames_stored - stored_before
            load = await loading
            drain_started = time.perf_counter()
            await gateway.ingestor.drain_rules()
            out["load"] = {
                "terminals": load_terminals,
                "rate": load["rate"],
                "stored_per_s_during_sos": stored_during / max(1e-9, sos_done - load_started),
                "rules_behind_s": time.perf_counter() - drain_started,
                "ingest": gateway.ingestor.stats(),
            }
    finally:
        for _reader, writer in watches:
            writer.close()
        stop.set()
        if relaying is not None:
            await relaying
        if loading is not None and not loading.done():
            loading.cancel()
        await gateway.stop()
        server.should_exit = True
        await serving
        sock.close()
    return out


def bench_sos_to_websocket(scale: float) -> dict[str, Any]:
    """SOS frame → alarm row received on a logged-in console's websocket (uvicorn), p50/p99."""
    from pingantong.gateway.ingest import rules_mode

    count = max(20, int(100 * min(scale, 1.0)))
    data = asyncio.run(_measure_ws(count))
    return {
        "rules": rules_mode(),
        "figures": [
            {"name": "SOS → console websocket, p50", "value": _pct(data["screen"], 0.5), "unit": "ms"},
            {
                "name": "SOS → console websocket, p99",
                "value": _pct(data["screen"], 0.99),
                "unit": "ms",
                "target": TARGET_P99_MS,
            },
            {"name": "SOS → ACK (stored), p50", "value": _pct(data["ack"], 0.5), "unit": "ms"},
            {"name": "SOS rounds", "value": len(data["screen"]), "unit": "n"},
        ],
    }


bench_sos_to_websocket.default_scale = 1.0  # type: ignore[attr-defined]


def bench_sos_to_websocket_loaded(scale: float) -> dict[str, Any]:
    """SOS frame → console websocket, p50/p99, while 10,000×scale terminals load the gateway."""
    import os

    from pingantong.gateway.ingest import rules_mode

    terminals = max(200, int(10_000 * scale))
    seconds = float(os.environ.get("PINGANTONG_BENCH_SECONDS", "60"))
    # One SOS every 0.5 s for as long as the load lasts (S01: the alarm must not wait behind the
    # rules stage's backlog: decision 0113's priority lane).
    data = asyncio.run(
        _measure_ws(int(seconds / 0.5), load_terminals=terminals, load_seconds=seconds, spacing=0.5)
    )
    load = data.get("load", {})
    ingest = load.get("ingest", {})
    return {
        "rules": rules_mode(),
        "figures": [
            {
                "name": "SOS → console websocket under load, p50",
                "value": _pct(data["screen"], 0.5),
                "unit": "ms",
            },
            {
                "name": "SOS → console websocket under load, p99",
                "value": _pct(data["screen"], 0.99),
                "unit": "ms",
                "target": TARGET_P99_MS,
            },
            {"name": "SOS → ACK (stored) under load, p50", "value": _pct(data["ack"], 0.5), "unit": "ms"},
            {"name": "SOS rounds under load", "value": len(data["screen"]), "unit": "n"},
            {"name": "load terminals", "value": terminals, "unit": "conn"},
            {"name": "messages stored+acked /s", "value": round(load.get("rate", 0.0), 1), "unit": "msg/s"},
            {
                "name": "rules stage behind at the end",
                "value": round(load.get("rules_behind_s", 0.0), 2),
                "unit": "s",
            },
            {
                "name": "rules CPU per event",
                "value": ingest.get("rules_cpu_us_per_event"),
                "unit": "µs",
            },
        ],
        "load": load,
        "samples": data["samples"],
    }


bench_sos_to_websocket_loaded.default_scale = 0.2  # type: ignore[attr-defined]


UNBOUND_IDENTITY = "3504088888"
HEAVY_IDENTITY = "3504099999"


def _populate(clients: int, events: int, closed_alarms: int, open_alarms: int) -> dict[str, Any]:
    """Bulk data (benchdata.fast_insert: executemany on SQLite, COPY on PostgreSQL): `clients`
    clients each with a bound watch and its state, `events` device events in all — a tenth of them
    (at most 1,000,000) on the first client's watch (a year of 30-s reports: the alarm screen must
    read only the last ones), 1,000 from an unknown terminal, the rest spread over the other
    watches — closed history and the open queue. Returns the ids of an open alarm of the busy
    watch's client and of an open alarm from the unknown terminal, and the load timings."""
    from pingantong.alarms.models import Alarm, AlarmStep
    from pingantong.clients.models import Client, Contact
    from pingantong.devices.models import Device, DeviceEventRecord, DeviceState, PositionRecord
    from pingantong.regions.models import Region

    from . import benchdata

    village = (
        Region.objects.filter(code__startswith="350404", level=5).values_list("code", flat=True).first()
        or "350404000000"
    )
    now = datetime.now(UTC)
    timings: dict[str, float] = {}
    benchdata.big_cache()
    mark = time.perf_counter()
    benchdata.fast_insert(
        Client,
        Client(name="", region_id=village, status="active"),
        ["name", "phone"],
        ((f"压测{n}", f"139{n:08d}") for n in range(clients)),
    )
    client_ids = list(Client.objects.order_by("pk").values_list("pk", flat=True))
    first = Client.objects.get(pk=client_ids[0])
    benchdata.fast_insert(
        Device,
        Device(protocol="watch", identity="", device_type_id="watch", region_id=village),
        ["identity", "client_id"],
        ((HEAVY_IDENTITY if n == 0 else f"35041{n:07d}", pk) for n, pk in enumerate(client_ids)),
    )
    devices = list(Device.objects.order_by("pk").values_list("pk", "identity"))
    benchdata.fast_insert(
        DeviceState,
        DeviceState(latitude=26.26, longitude=117.63, battery_pct=70, last_life_sign_at=now),
        ["device_id"],
        ((pk,) for pk, _identity in devices),
    )
    timings["clients, devices, states"] = time.perf_counter() - mark
    mark = time.perf_counter()
    heavy = min(events // 10, 1_000_000)
    unknown = min(1000, events // 100)
    per_device = max(0, (events - heavy - unknown) // max(1, len(devices) - 1))
    rest = events - heavy - unknown - per_device * (len(devices) - 1)
    to_db = benchdata._datetime_converter()
    # One formatted time list, shared by every device (the same reporting rhythm): formatting ten
    # million datetimes would cost more than inserting them.
    quarter_hours = [to_db(now - timedelta(minutes=15 * i)) for i in range(per_device + rest + 1)]
    half_minutes = [to_db(now - timedelta(seconds=30 * i)) for i in range(max(heavy, unknown))]
    heavy_pk, heavy_identity = devices[0]

    def event_rows():
        for i in range(unknown):  # oldest rows first: the unknown terminal's events sit far back
            yield (None, UNBOUND_IDENTITY, half_minutes[unknown - 1 - i])
        for pk, identity in devices[1:]:
            for i in range(per_device):
                yield (pk, identity, quarter_hours[i])
        for i in range(rest):
            yield (devices[-1][0], devices[-1][1], quarter_hours[per_device + i])
        for i in range(heavy):
            yield (heavy_pk, heavy_identity, half_minutes[heavy - 1 - i])

    benchdata.fast_insert(
        DeviceEventRecord,
        DeviceEventRecord(
            protocol="watch",
            device_identity="",
            message="UD",
            kind="position",
            received_at=now,
            payload={"kind": "position"},
            gateway_node="bench",
        ),
        ["device_id", "device_identity", "received_at"],
        event_rows(),
        prepared=True,
    )
    timings["device events"] = time.perf_counter() - mark
    mark = time.perf_counter()
    unknown_event = (
        DeviceEventRecord.objects.filter(device__isnull=True, device_identity=UNBOUND_IDENTITY)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    Contact.objects.bulk_create(
        [Contact(client=first, name=f"家属{n}", phone=f"137{n:08d}", priority=n + 1) for n in range(3)]
    )
    PositionRecord.objects.bulk_create(
        [
            PositionRecord(
                device_id=heavy_pk,
                recorded_at=now - timedelta(minutes=i),
                received_at=now,
                latitude=26.26 + i * 1e-5,
                longitude=117.63,
                valid=True,
            )
            for i in range(1500)
        ]
    )
    benchdata.fast_insert(
        Alarm,
        Alarm(
            alarm_type="sos",
            priority=1,
            status="closed",
            region_id=village,
            outcome="false_alarm",
            raised_at=now,
            last_occurrence_at=now,
        ),
        ["device_ident", "raised_at", "claimed_at", "closed_at"],
        (
            (
                f"d{n}",
                now - timedelta(hours=n % 700),
                now - timedelta(hours=n % 700) + timedelta(seconds=30),
                now - timedelta(hours=n % 700) + timedelta(minutes=5),
            )
            for n in range(closed_alarms)
        ),
    )
    opened = Alarm.objects.bulk_create(
        [
            Alarm(
                alarm_type="fall" if n % 3 else "sos",
                priority=1 + n % 3,
                region_id=village,
                device_ident=f"o{n}",
                raised_at=now - timedelta(seconds=n * 7),
            )
            for n in range(open_alarms)
        ]
    )
    target = Alarm.objects.create(
        alarm_type="sos",
        priority=1,
        region_id=village,
        device_id=heavy_pk,
        client=first,
        device_ident=HEAVY_IDENTITY,
        latitude=26.26,
        longitude=117.63,
    )
    unbound = Alarm.objects.create(
        alarm_type="sos",
        priority=1,
        region_id="350404000000",
        device_ident=UNBOUND_IDENTITY,
        from_unbound_device=True,
        source_event_ids=[str(unknown_event)] if unknown_event else [],
    )
    AlarmStep.objects.bulk_create([AlarmStep(alarm=a, kind="raised") for a in (target, unbound, *opened)])
    benchdata.analyze()
    timings["alarms, contacts, positions, statistics"] = time.perf_counter() - mark
    return {"alarm": target.pk, "unbound_alarm": unbound.pk, "timings": timings}


def _time(client: Any, url: str, n: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds per request. CPU time is reported beside wall time because a shared
    2-core machine (other test suites running) inflates wall time with waiting for a core."""
    wall, cpu = [], []
    for _ in range(n):
        started, started_cpu = time.perf_counter(), time.thread_time()
        response = client.get(url)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - started_cpu) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return wall[2:], cpu[2:]  # first requests warm caches and templates


def bench_alarm_screens(scale: float) -> dict[str, Any]:
    """Queue page, open-alarms API and alarm screen: median and p95 server time per request."""
    from django.db import connection
    from django.test import Client

    from pingantong.accounts.models import User

    clients = max(1000, int(100_000 * scale))
    events = max(10_000, int(10_000_000 * scale))
    started = time.perf_counter()
    data = _populate(clients, events, closed_alarms=max(1000, int(50_000 * scale)), open_alarms=50)
    load_s = time.perf_counter() - started
    _cookie, _ = _agent_cookie()
    web = Client()
    web.force_login(User.objects.get(username="bench-agent"))
    n = 32
    queue, queue_cpu = _time(web, "/alarms/", n)
    api, api_cpu = _time(web, "/api/v1/alarms/?status=open", n)
    screen, screen_cpu = _time(web, f"/alarms/{data['alarm']}/", n)
    unbound, unbound_cpu = _time(web, f"/alarms/{data['unbound_alarm']}/", n)
    figures = [
        {"name": "queue page, CPU median", "value": _pct(queue_cpu, 0.5), "unit": "ms"},
        {"name": "API ?status=open, CPU median", "value": _pct(api_cpu, 0.5), "unit": "ms"},
        {"name": "alarm screen, CPU median", "value": _pct(screen_cpu, 0.5), "unit": "ms"},
        {
            "name": "queue page, median",
            "value": _pct(queue, 0.5),
            "unit": "ms",
            "target": TARGET_SCREEN_MEDIAN_MS,
        },
        {"name": "queue page, p95", "value": _pct(queue, 0.95), "unit": "ms"},
        {
            "name": "API ?status=open, median",
            "value": _pct(api, 0.5),
            "unit": "ms",
            "target": TARGET_SCREEN_MEDIAN_MS,
        },
        {
            "name": "alarm screen, median",
            "value": _pct(screen, 0.5),
            "unit": "ms",
            "target": TARGET_SCREEN_MEDIAN_MS,
        },
        {"name": "alarm screen, p95", "value": _pct(screen, 0.95), "unit": "ms"},
        {
            "name": "alarm screen, unknown terminal, median",
            "value": _pct(unbound, 0.5),
            "unit": "ms",
            "target": TARGET_SCREEN_MEDIAN_MS,
        },
        {"name": "alarm screen, unknown terminal, CPU", "value": _pct(unbound_cpu, 0.5), "unit": "ms"},
        {"name": "clients in database", "value": clients, "unit": "n"},
        {"name": "device events in database", "value": events, "unit": "n"},
        {"name": "data load time", "value": round(load_s, 1), "unit": "s"},
        *(
            {"name": f"load: {name}", "value": round(seconds, 1), "unit": "s"}
            for name, seconds in data["timings"].items()
        ),
    ]
    return {
        "figures": figures,
        "database": connection.vendor,
        "medians_ms": {"queue": statistics.median(queue), "screen": statistics.median(screen)},
    }


bench_alarm_screens.default_scale = 0.1  # type: ignore[attr-defined]


def bench_alarm_centre_full(scale: float) -> dict[str, Any]:
    """Issue 6's targets in one run, on one database: the alarm screens' dataset (100,000 clients
    and 10 million events at ×1) and its queue and screen medians, then, on that same database,
    SOS frame → console websocket while 10,000×scale terminals load the gateway."""
    screens = bench_alarm_screens(scale)
    loaded = bench_sos_to_websocket_loaded(scale)
    return {
        "rules": loaded["rules"],
        "database": screens["database"],
        "figures": [*screens["figures"], *loaded["figures"]],
        "load": loaded["load"],
        "samples": loaded["samples"],
        "medians_ms": screens["medians_ms"],
    }


bench_alarm_centre_full.default_scale = 0.02  # type: ignore[attr-defined]
