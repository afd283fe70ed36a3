"""Monthly progress and the annual summary (P5): installations and clients served, by town/street."""

from __future__ import annotations

from collections import Counter
from datetime import date

from .periods import month_bounds, next_month


def progress_by_town(*, region_code: str, month: date) -> list[dict]:
    """Per town/street of the region: clients enrolled (end of month), served, first installations."""
    from pingantong.clients.models import Client
    from pingantong.inventory.choices import InstallationStatus
    from pingantong.inventory.models import Installation
    from pingantong.regions.models import Region, RegionLevel, prefix_of

    from .settlement import delivered_evidence, eligible_clients

    prefix = prefix_of(region_code)
    start, end = month_bounds(month)
    towns = Region.objects.filter(level=RegionLevel.TOWN, code__startswith=prefix).order_by("code")
    eligible = list(eligible_clients(region_code, month).values_list("pk", "region_id"))
    served_ids = set(delivered_evidence([pk for pk, _r in eligible], month))
    enrolled = Counter(r[:9] for _pk, r in eligible)
    served = Counter(r[:9] for pk, r in eligible if pk in served_ids)
    installed = Counter(
        r[:9]
        for r in Installation.objects.filter(
            region__code__startswith=prefix,
            status=InstallationStatus.DONE,
            completed_at__gte=start,
            completed_at__lt=end,
        ).values_list("region_id", flat=True)
    )
    self_paid = Counter(
        r[:9]
        for r in Client.objects.filter(
            region__code__startswith=prefix, paying_scheme="self_paid", status="active"
        ).values_list("region_id", flat=True)
    )
    return [
        {
            "code": town.code,
            "name": town.name,
            "enrolled": enrolled[town.code[:9]],
            "served": served[town.code[:9]],
            "installations": installed[town.code[:9]],
            "self_paid": self_paid[town.code[:9]],
        }
        for town in towns
    ]


def annual_summary(*, region_code: str, year: int, until: date | None = None) -> list[dict]:
    """One row per month of the year (up to `until`): enrolled, served, installations."""
    rows = []
    month = date(year, 1, 1)
    last = until or date(year, 12, 1)
    while month <= last and month.year == year:
        towns = progress_by_town(region_code=region_code, month=month)
        rows.append(
            {
                "month": f"{month:%Y-%m}",
                "enrolled": sum(t["enrolled"] for t in towns),
                "served": sum(t["served"] for t in towns),
                "installations": sum(t["installations"] for t in towns),
            }
        )
        month = next_month(month)
    return rows
