"""Benchmark of broadcasts (issue 5): 10,000 messages through the development channel.

The web side only approves (a count and an enqueue); the sending runs in the worker, here a
thread that executes the broadcast's batch job as the Huey consumer would, while the "web" thread
polls the progress the way the page's htmx does. Figures: the approval's latency (what a web
request pays), the poll latency while sending (is the web blocked?), and the throughput.
"""

from __future__ import annotations

import math
import statistics
import threading
import time
from typing import Any

MARKER = "bench_broadcast"


def _clients(count: int) -> None:
    """At least `count` active clients carrying the marker category (scratch database only)."""
    from django.db.models import Q

    from pingantong.clients.choices import ClientStatus
    from pingantong.clients.models import Client

    active = Client.objects.filter(status=ClientStatus.ACTIVE).exclude(Q(phone="") | Q(phone__isnull=True))
    missing = count - active.count()
    if missing > 0:
        from pingantong.clients.bench import _populate

        _populate(math.ceil(missing / 0.85) + 10)
    chosen = list(active.order_by("pk")[:count])
    for client in chosen:
        if MARKER not in client.categories:
            client.categories = [*client.categories, MARKER]
    Client.objects.bulk_update(chosen, ["categories"], batch_size=1000)


def bench_broadcast(scale: float) -> dict[str, Any]:
    """10,000 × scale broadcast messages via the development channel; web stays responsive."""
    from django.db import connection

    from pingantong.accounts.models import User

    from .broadcasts import approve_broadcast, create_broadcast, send_broadcast_batch
    from .choices import BroadcastKind, BroadcastStatus
    from .models import Broadcast
    from .selectors import broadcast_report

    count = max(100, int(10_000 * scale))
    started = time.perf_counter()
    _clients(count)
    setup_s = time.perf_counter() - started
    user, _ = User.objects.get_or_create(username="bench-notifications", defaults={"is_superuser": True})
    broadcast = create_broadcast(
        kind=BroadcastKind.POLICY,
        title="基准测试",
        region="350404000000",
        categories=[MARKER],
        params={"title": "政策提醒", "explanation": "这是一条基准测试消息。"},
        created_by=user,
    )
    from unittest import mock

    t0 = time.perf_counter()
    with mock.patch("pingantong.notifications.broadcasts._schedule_start"):
        approve_broadcast(broadcast=broadcast, user=user)  # the web request's share
    approve_ms = (time.perf_counter() - t0) * 1000
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            offset = 0
            while True:
                send_broadcast_batch(broadcast_id=broadcast.pk, offset=offset, chain=False)
                offset += 500
                status = Broadcast.objects.values_list("status", flat=True).get(pk=broadcast.pk)
                if status != BroadcastStatus.SENDING:
                    break
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=worker, name="bench-worker")
    send_started = time.perf_counter()
    thread.start()
    polls: list[float] = []
    progress_seen: list[int] = []
    while thread.is_alive():
        t = time.perf_counter()
        current = Broadcast.objects.get(pk=broadcast.pk)
        broadcast_report(current)
        polls.append((time.perf_counter() - t) * 1000)
        progress_seen.append(current.processed)
        thread.join(0.5)
    send_s = time.perf_counter() - send_started
    broadcast.refresh_from_db()
    report = broadcast_report(broadcast)
    return {
        "figures": [
            {"name": "broadcast messages", "value": report["reached"], "unit": "msgs", "target": count},
            {"name": "send time in the worker", "value": round(send_s, 2), "unit": "s"},
            {
                "name": "throughput",
                "value": round(report["reached"] / send_s, 1) if send_s else None,
                "unit": "msg/s",
            },
            {"name": "approve (web request share)", "value": round(approve_ms, 1), "unit": "ms"},
            {
                "name": "progress poll while sending, median",
                "value": round(statistics.median(polls), 1) if polls else None,
                "unit": "ms",
            },
            {
                "name": "progress poll while sending, max",
                "value": round(max(polls), 1) if polls else None,
                "unit": "ms",
            },
            {"name": "distinct progress values seen", "value": len(set(progress_seen)), "unit": ""},
        ],
        "status": broadcast.status,
        "setup_s": round(setup_s, 1),
        "errors": [repr(e) for e in errors],
    }
