"""Benchmarks of care work (issue 7): the daily confirmation sweep over 100,000 clients (under 10 s,
creating exactly the tasks due) and the worklist's median latency (under 200 ms).

`pingantong bench daily_sweep` runs it on a scratch database; `scale` shrinks or grows the
population (1.0 = 100,000 clients)."""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from typing import Any

TARGET_SWEEP_S = 10.0
TARGET_WORKLIST_MS = 200.0
CONFIRM = ["childless", "living_alone", "empty_nest", "left_behind", "family_planning"]
OTHER = ["incapacitated", "severe_disability"]


def _populate(count: int, now: dt.datetime, seed: int = 7) -> int:
    """Clients, watches with their states and care life signs; returns how many tasks are due."""
    from django.db import transaction

    from pingantong.clients.models import Client
    from pingantong.devices.models import Device, DeviceState
    from pingantong.regions.models import Region, RegionLevel

    from .models import LifeSign

    rng = random.Random(seed)
    villages = list(
        Region.objects.filter(level=RegionLevel.VILLAGE, code__startswith="350404").values_list(
            "code", flat=True
        )
    )
    expected = 0
    batch = 5000
    for start in range(0, count, batch):
        with transaction.atomic():
            clients = []
            for n in range(start, min(start + batch, count)):
                needs = rng.random() < 0.7
                cats = [rng.choice(CONFIRM)] if needs else [rng.choice(OTHER)]
                clients.append(
                    Client(
                        name=f"老人{n}",
                        region_id=rng.choice(villages),
                        categories=cats,
                        status="active" if rng.random() < 0.95 else "terminated",
                        phone=f"139{n:08d}",
                        risk_tier=rng.choice(["high", "key", "general"]),
                    )
                )
            Client.objects.bulk_create(clients, batch_size=batch)
            devices, states, signs = [], [], []
            plan = []
            for client in clients:
                roll = rng.random()
                # 55 % walked today, 15 % heartbeat only, 10 % yesterday's steps, 5 % visited, 15 % silent.
                kind = (
                    "steps"
                    if roll < 0.55
                    else "heartbeat"
                    if roll < 0.70
                    else "old"
                    if roll < 0.80
                    else "visit"
                    if roll < 0.85
                    else "silent"
                )
                plan.append((client, kind))
                if kind in ("steps", "heartbeat", "old"):
                    devices.append(
                        Device(
                            protocol="watch",
                            identity=f"bench{client.pk}",
                            device_type_id="watch",
                            client=client,
                            region_id=client.region_id,
                        )
                    )
                if kind == "visit":
                    signs.append(
                        LifeSign(
                            client=client,
                            region_id=client.region_id,
                            source="visit",
                            at=now - dt.timedelta(hours=rng.uniform(1, 20)),
                        )
                    )
                confirmed = kind in ("steps", "visit")
                if client.status == "active" and set(client.categories) & set(CONFIRM) and not confirmed:
                    expected += 1
            Device.objects.bulk_create(devices, batch_size=batch)
            by_client = {d.client_id: d for d in devices}
            for client, kind in plan:
                device = by_client.get(client.pk)
                if device is None:
                    continue
                seen = now - dt.timedelta(minutes=rng.uniform(1, 120))
                sign = {
                    "steps": now - dt.timedelta(hours=rng.uniform(1, 23)),
                    "heartbeat": None,
                    "old": now - dt.timedelta(hours=rng.uniform(25, 48)),
                }[kind]
                states.append(
                    DeviceState(
                        device=device,
                        last_device_seen_at=seen,
                        last_message_at=seen,
                        last_life_sign_at=sign,
                        last_life_sign_source="steps" if sign else "",
                    )
                )
            DeviceState.objects.bulk_create(states, batch_size=batch)
            LifeSign.objects.bulk_create(signs, batch_size=batch)
    return expected


def _median_ms(func, runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        func()
        samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 1)


def bench_daily_sweep(scale: float) -> dict[str, Any]:
    """Daily confirmation sweep over 100,000 clients (<10 s, exact), worklist median (<200 ms)."""
    from django.test import Client as WebClient
    from django.test.utils import override_settings
    from django.utils import timezone
    from rest_framework.test import APIClient

    from pingantong.accounts.models import RoleAssignment, User

    from .actions.confirmation import run_daily_confirmation
    from .models import Task

    count = max(100, int(100_000 * scale))
    now = timezone.now()
    Task.objects.all().delete()
    started = time.perf_counter()
    expected = _populate(count, now)
    populate_s = time.perf_counter() - started
    from django.db import connection

    if connection.vendor == "sqlite":  # the set-up's WAL is not the sweep's cost: fold it in first
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # Production runs with DEBUG off: Django's debug cursor would format every multi-row INSERT's
    # parameters into its query log, which is not part of the sweep's cost.
    with override_settings(DEBUG=False):
        started = time.perf_counter()
        result = run_daily_confirmation(now=now)
        sweep_s = time.perf_counter() - started
        started = time.perf_counter()
        again = run_daily_confirmation(now=now + dt.timedelta(minutes=5))
        rerun_s = time.perf_counter() - started

    agent = User.objects.create_user(username=f"bench-agent-{now.timestamp():.0f}", password="x" * 12)
    RoleAssignment.objects.create(user=agent, role="agent", region_id="350404001000")
    supervisor = User.objects.create_user(username=f"bench-sup-{now.timestamp():.0f}", password="x" * 12)
    RoleAssignment.objects.create(user=supervisor, role="supervisor", region_id="350404000000")
    with override_settings(ALLOWED_HOSTS=["*"], DEBUG=False):
        api = APIClient()
        api.force_authenticate(agent)
        api_agent_ms = _median_ms(lambda: api.get("/api/v1/care/tasks/"), 30)
        api.force_authenticate(supervisor)
        api_supervisor_ms = _median_ms(lambda: api.get("/api/v1/care/tasks/"), 30)
        web = WebClient()
        web.force_login(agent)
        web_agent_ms = _median_ms(lambda: web.get("/care/"), 30)
    opened = len(result.opened)
    return {
        "figures": [
            {"name": "clients", "value": count, "unit": "clients"},
            {
                "name": "daily sweep",
                "value": round(sweep_s, 2),
                "unit": "s",
                "target": TARGET_SWEEP_S * scale,
            },
            {"name": "confirmation tasks opened", "value": opened, "unit": "tasks", "target": expected},
            {
                "name": "opened exactly the tasks due",
                "value": int(opened == expected),
                "unit": "bool",
                "target": 1,
            },
            {"name": "re-run opened (must be 0)", "value": len(again.opened), "unit": "tasks", "target": 0},
            {"name": "re-run sweep", "value": round(rerun_s, 2), "unit": "s"},
            {
                "name": "worklist API median (agent, town)",
                "value": api_agent_ms,
                "unit": "ms",
                "target": TARGET_WORKLIST_MS,
            },
            {
                "name": "worklist API median (supervisor, district)",
                "value": api_supervisor_ms,
                "unit": "ms",
                "target": TARGET_WORKLIST_MS,
            },
            {
                "name": "worklist page median (agent)",
                "value": web_agent_ms,
                "unit": "ms",
                "target": TARGET_WORKLIST_MS,
            },
            {"name": "population set-up", "value": round(populate_s, 1), "unit": "s"},
        ],
        "open_tasks": Task.objects.filter(kind="confirmation").count(),
    }
