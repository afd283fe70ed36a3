"""Benchmark: a month's settlement and compliance for 100,000 clients (target: under 30 s), and the
.xlsx export's peak memory (it must stream, not hold the file)."""

from __future__ import annotations

import datetime as dt
import time
import tracemalloc

SH = dt.timezone(dt.timedelta(hours=8))
MONTH = dt.date(2026, 10, 1)


def _generate(count: int) -> None:
    from pingantong.care.models import CareCall
    from pingantong.clients.models import Client
    from pingantong.regions.models import Region

    villages = list(Region.objects.filter(level=5, code__startswith="350404").values_list("code", flat=True))
    enrolled = dt.datetime(2026, 9, 1, tzinfo=SH)
    clients = [
        Client(
            name=f"基准{i}",
            region_id=villages[i % len(villages)],
            status="active",
            paying_scheme="basic_package",
            enrolled_at=enrolled,
            categories=["living_alone"],
        )
        for i in range(count)
    ]
    Client.objects.bulk_create(clients, batch_size=5000)
    ids = list(Client.objects.filter(name__startswith="基准").values_list("pk", "region_id"))
    calls = [
        CareCall(
            client_id=pk,
            region_id=region,
            at=dt.datetime(2026, 10, 1 + (pk % 28), 10, tzinfo=SH),
            result="answered",
        )
        for pk, region in ids
        if pk % 10  # one client in ten had no service delivered
    ]
    CareCall.objects.bulk_create(calls, batch_size=5000)


def bench_settlement(scale: float) -> dict:
    """Settlement + compliance for a month of 100,000 clients; streamed .xlsx export memory."""
    from django.test import RequestFactory

    from pingantong.reports.actions import prepare_settlement
    from pingantong.reports.compliance import compute_compliance
    from pingantong.reports.exports import iter_settlement_lines, xlsx_response

    count = max(1000, int(100_000 * scale))
    started = time.perf_counter()
    _generate(count)
    generated = time.perf_counter() - started

    started = time.perf_counter()
    settlement = prepare_settlement(region_code="350404000000", month=MONTH)
    settlement_s = time.perf_counter() - started
    started = time.perf_counter()
    compute_compliance(region_code="350404000000", month=MONTH)
    compliance_s = time.perf_counter() - started

    from django.core.cache import cache

    from pingantong.reports.dashboard import dashboard_figures

    cache.clear()
    started = time.perf_counter()
    dashboard_figures(region_code="350404000000", now=dt.datetime(2026, 10, 31, 12, tzinfo=SH))
    dashboard_s = time.perf_counter() - started

    RequestFactory()  # keeps the import honest; the export needs no request
    tracemalloc.start()
    response = xlsx_response(
        filename="bench.xlsx", sheets=[("lines", ["a"] * 8, iter_settlement_lines(settlement))]
    )
    size = sum(len(chunk) for chunk in response.streaming_content)  # type: ignore[union-attr,misc]
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "clients": count,
        "figures": [
            {
                "name": f"settlement, {count:,} clients",
                "value": round(settlement_s, 2),
                "unit": "s",
                "target": 30,
            },
            {
                "name": f"compliance, {count:,} clients",
                "value": round(compliance_s, 2),
                "unit": "s",
                "target": 30,
            },
            {
                "name": "settlement + compliance",
                "value": round(settlement_s + compliance_s, 2),
                "unit": "s",
                "target": 30,
            },
            {
                "name": "dashboard, uncached",
                "value": round(dashboard_s, 2),
                "unit": "s",
            },
            {"name": "person-months billed", "value": settlement.person_months, "unit": ""},
            {"name": "xlsx size", "value": round(size / 1e6, 2), "unit": "MB"},
            {"name": "xlsx export peak Python memory", "value": round(peak / 1e6, 2), "unit": "MB"},
            {"name": "data generation (not timed against target)", "value": round(generated, 2), "unit": "s"},
        ],
    }
