"""Real regions of 三元区 for tests (loaded by the regions migration)."""

from __future__ import annotations

DISTRICT = "350404000000"  # 三元区
TOWN_A = "350404001000"  # 列东街道
TOWN_B = "350404002000"  # 列西街道, TOWN_A's sibling


def ensure_regions() -> None:
    """Make sure the district and the two sibling towns exist (the migration normally loads them)."""
    from pingantong.regions.models import Region

    if Region.objects.filter(pk__in=[DISTRICT, TOWN_A, TOWN_B]).count() == 3:
        return
    province, _ = Region.objects.get_or_create(pk="350000000000", defaults={"name": "福建省", "level": 1})
    city, _ = Region.objects.get_or_create(
        pk="350400000000", defaults={"name": "三明市", "level": 2, "parent": province}
    )
    district, _ = Region.objects.get_or_create(
        pk=DISTRICT, defaults={"name": "三元区", "level": 3, "parent": city}
    )
    Region.objects.get_or_create(pk=TOWN_A, defaults={"name": "列东街道", "level": 4, "parent": district})
    Region.objects.get_or_create(pk=TOWN_B, defaults={"name": "列西街道", "level": 4, "parent": district})


def village_of(town: str) -> str:
    """The code of one village/community of `town` (a deeper record for subtree checks)."""
    from pingantong.regions.models import Region

    child = Region.objects.filter(parent_id=town).order_by("code").values_list("code", flat=True).first()
    return child or town
