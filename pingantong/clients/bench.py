"""Benchmark of the client registry: list and search latency through the API with 100,000 clients.

Target (issue 3): the client list and search answer in under 200 ms (median) with 100,000 clients.
Run with `pingantong bench client_search` (scratch database) or call `bench_client_search(scale)`.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from typing import Any

TARGET_MS = 200.0
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐许邓冯韩曹曾彭萧蔡潘田董袁于余叶蒋杜苏魏程吕丁沈任姚卢傅钟姜崔谭廖范汪陆金石戴贾韦夏邱方侯邹熊孟秦白江阎薛尹段雷黎史龙陶贺顾毛郝龚邵万钱严"  # noqa: E501
GIVEN = "秀英桂兰玉兰建华明德国强淑珍凤英金花志明春梅秋菊福生永康海燕丽华宝珠文杰家兴美玲月娥德明学文"


def _populate(count: int, seed: int = 42) -> list[str]:
    """Insert `count` fictitious clients fast: one executemany per 5,000 rows with values prepared by
    the model's own fields (constants once, varying columns per row), on SQLite and PostgreSQL alike.

    Safe to call again on a database that already holds clients (other benchmarks call it too): the
    ID numbers continue after the existing clients, so the blind index never collides."""
    from django.db import connection, transaction
    from django.utils import timezone

    from pingantong.regions.models import Region, RegionLevel

    from . import crypto
    from .choices import Category, ClientStatus, RiskTier
    from .idnumber import make_test_id_number
    from .models import Client

    rng = random.Random(seed)
    villages = list(
        Region.objects.filter(level=RegionLevel.VILLAGE, code__startswith="350404").values_list(
            "code", flat=True
        )
    )
    categories = list(Category.values)
    tiers = [RiskTier.HIGH] + [RiskTier.KEY] * 3 + [RiskTier.GENERAL] * 6
    statuses = [ClientStatus.ACTIVE] * 18 + [ClientStatus.APPLYING, ClientStatus.TERMINATED]
    base = dt.date(1932, 1, 1)
    now = timezone.now()
    template = Client(region_id=villages[0], created_at=now, updated_at=now, enrolled_at=now)
    fields = [f for f in Client._meta.concrete_fields if not f.primary_key]
    varying = {
        "name",
        "region_id",
        "household_region_code",
        "phone",
        "categories",
        "risk_tier",
        "status",
        "address",
        "id_number_encrypted",
        "id_number_hmac",
        "id_number_masked",
        "birth_date",
    }
    constants = {f.attname: f.get_db_prep_save(getattr(template, f.attname), connection) for f in fields}
    categories_field = Client._meta.get_field("categories")
    birth_field = Client._meta.get_field("birth_date")
    table = connection.ops.quote_name(Client._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608 - our own column names
    numbers: list[str] = []
    rows: list[tuple] = []

    def flush() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, rows)
        rows.clear()

    offset = Client.objects.count()
    for i in range(offset, offset + count):
        birth = base + dt.timedelta(days=(i // 500) * 30)
        number = make_test_id_number(birth, sequence=i % 500)
        numbers.append(number)
        village = villages[i % len(villages)]
        values = {
            "name": rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2)),
            "region_id": village,
            "household_region_code": village,
            "phone": f"139{rng.randrange(10**8):08d}",
            "categories": categories_field.get_db_prep_save(
                rng.sample(categories, rng.choice([1, 1, 2, 3])), connection
            ),
            "risk_tier": rng.choice(tiers),
            "status": rng.choice(statuses),
            "address": f"三元区第{i % 300}号",
            "id_number_encrypted": crypto.encrypt(number),
            "id_number_hmac": crypto.blind_index(number),
            "id_number_masked": number[:6] + "********" + number[-4:],
            "birth_date": birth_field.get_db_prep_save(birth, connection),
        }
        rows.append(
            tuple(values[f.attname] if f.attname in varying else constants[f.attname] for f in fields)
        )
        if len(rows) == 5000:
            flush()
    if rows:
        flush()
    return numbers


def _median_ms(api: Any, params: dict[str, str], repeat: int) -> tuple[float, int]:
    timings = []
    rows = 0
    for _ in range(repeat):
        started = time.perf_counter()
        response = api.get("/api/v1/clients/", params)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:200]
        rows = len(response.json()["results"])
    return statistics.median(timings), rows


def bench_client_search(scale: float) -> dict:
    """Median API latency of the client list, search and filters with 100,000 × scale clients."""
    from django.db import connection
    from django.test.utils import override_settings
    from rest_framework.test import APIClient

    from pingantong.accounts.choices import Role
    from pingantong.accounts.models import RoleAssignment, User

    from .models import Client

    count = max(1000, int(100_000 * scale))
    existing = Client.objects.count()
    started = time.perf_counter()
    numbers = _populate(count - existing) if existing < count else []
    populate_s = time.perf_counter() - started
    with connection.cursor() as cursor:  # fresh statistics after a bulk load, as autovacuum would give
        cursor.execute("ANALYZE")
    users = {}
    for role, region in ((Role.AGENT, "350404000000"), (Role.VILLAGE, "350404001001")):
        user, _ = User.objects.get_or_create(username=f"bench-{role}")
        RoleAssignment.objects.get_or_create(user=user, role=role, region_id=region)
        users[role] = user
    some = Client.objects.order_by("?").values_list("name", "phone").first() or ("王", "139")
    middle = Client.objects.filter(pk__gte=Client.objects.count() // 2).order_by("pk").first()
    some_id = numbers[len(numbers) // 2] if numbers else (middle.id_number if middle else "x")
    scenarios = [
        ("list, first page (district agent)", Role.AGENT, {}),
        ("list, page 40", Role.AGENT, {"page": "40"}),
        ("search by name", Role.AGENT, {"q": some[0]}),
        ("search by surname", Role.AGENT, {"q": some[0][0]}),
        ("search by phone, last 4 digits", Role.AGENT, {"q": some[1][-4:]}),
        ("search by full ID number", Role.AGENT, {"q": some_id}),
        ("filter category", Role.AGENT, {"category": "severe_disability"}),
        ("filter risk tier + status", Role.AGENT, {"risk_tier": "high", "status": "active"}),
        ("filter village", Role.AGENT, {"region": "350404001003"}),
        ("village user, own clients", Role.VILLAGE, {}),
        ("search with no match (full scan)", Role.AGENT, {"q": "不存在的名字"}),
    ]
    figures: list[dict[str, Any]] = [
        {"name": "clients in database", "value": Client.objects.count(), "unit": "rows"},
        {"name": "bulk insert", "value": round(populate_s, 1), "unit": "s"},
    ]
    medians = []
    with override_settings(DEBUG=False):
        for label, role, params in scenarios:
            api = APIClient(SERVER_NAME="localhost")
            api.force_authenticate(users[role])
            api.get("/api/v1/clients/", params)  # warm up
            median, rows = _median_ms(api, params, repeat=max(5, int(15 * min(scale, 1.0))))
            medians.append(median)
            figures.append(
                {
                    "name": f"{label} ({rows} rows)",
                    "value": round(median, 1),
                    "unit": "ms",
                    "target": TARGET_MS,
                }
            )
    figures.append(
        {"name": "worst median", "value": round(max(medians), 1), "unit": "ms", "target": TARGET_MS}
    )
    return {"figures": figures, "passed": max(medians) < TARGET_MS}
