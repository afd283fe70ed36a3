"""Daily life-status confirmation coverage per region (Q1, S04): confirmed / due.

`due` and the clients confirmed by a life sign come from the sweep's DailyCoverage rows; clients
confirmed later that day through their confirmation task (a call answered, a visit) are counted
live from the tasks."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from pingantong.core.access import prefix_range
from pingantong.regions.models import PREFIX_LENGTH, Region, RegionLevel, level_of, prefix_of

from ..choices import CONFIRMING_OUTCOMES, TaskKind, TaskStatus
from ..models import DailyCoverage, Task


@dataclass
class CoverageRow:
    region_code: str
    region_name: str
    due: int = 0
    confirmed_by_life_sign: int = 0
    confirmed_by_task: int = 0
    open_tasks: int = 0

    @property
    def confirmed(self) -> int:
        return min(self.due, self.confirmed_by_life_sign + self.confirmed_by_task)

    @property
    def rate(self) -> float | None:
        return None if not self.due else round(100.0 * self.confirmed / self.due, 1)


def _group_code(code: str, level: int) -> str:
    size = PREFIX_LENGTH[RegionLevel(level)]
    return code[:size].ljust(12, "0")


def day_confirmation_tasks(user: Any, *, day: dt.date, region_prefix: str) -> QuerySet[Task]:
    """The day's confirmation tasks: keys `confirmation:<local date>:<client>` (decision 0086), a
    day's keys side by side in the key's unique index. SQLite's LIKE ignores case, so it cannot
    read a prefix from that index and would scan every task ever opened (~10 million a year at
    100,000 clients); the same prefix as a range under the column's binary collation reads the
    day's keys only. (PostgreSQL reads the prefix from the index under a C collation.)"""
    key = f"confirmation:{day.isoformat()}:"
    tasks = (
        Task.objects.restrict(user, "view")
        .filter(
            kind=TaskKind.CONFIRMATION, dedupe_key__startswith=key, region__code__startswith=region_prefix
        )
        .order_by()  # counted, not listed: no sort
    )
    if connection.vendor == "sqlite":
        tasks = tasks.filter(prefix_range("dedupe_key", key))
    return tasks


def coverage_by_region(
    user: Any, *, day: dt.date, region: str | None = None
) -> tuple[list[CoverageRow], CoverageRow]:
    """Rows one level below `region` (default: the district), and the total, for `day`."""
    root = region or "350404000000"
    root_level = level_of(root)
    child_level = min(root_level + 1, RegionLevel.VILLAGE)
    prefix = prefix_of(root)
    rows: dict[str, CoverageRow] = defaultdict(lambda: CoverageRow("", ""))
    coverage = DailyCoverage.objects.restrict(user, "view").filter(day=day, region__code__startswith=prefix)
    for region_id, due, by_sign in coverage.values_list("region_id", "due", "confirmed_by_life_sign"):
        row = rows[_group_code(region_id, child_level)]
        row.due += due
        row.confirmed_by_life_sign += by_sign
    tasks = day_confirmation_tasks(user, day=day, region_prefix=prefix)
    for region_id, status, outcome in tasks.values_list("region_id", "status", "outcome"):
        row = rows[_group_code(region_id, child_level)]
        if status == TaskStatus.DONE and outcome in CONFIRMING_OUTCOMES:
            row.confirmed_by_task += 1
        elif status not in (TaskStatus.DONE, TaskStatus.CANCELLED):
            row.open_tasks += 1
    names = dict(Region.objects.filter(pk__in=list(rows)).values_list("code", "name"))
    result = []
    total = CoverageRow(
        root, names.get(root) or Region.objects.filter(pk=root).values_list("name", flat=True).first() or root
    )
    for code in sorted(rows):
        row = rows[code]
        row.region_code, row.region_name = code, names.get(code, code)
        result.append(row)
        total.due += row.due
        total.confirmed_by_life_sign += row.confirmed_by_life_sign
        total.confirmed_by_task += row.confirmed_by_task
        total.open_tasks += row.open_tasks
    return result, total
