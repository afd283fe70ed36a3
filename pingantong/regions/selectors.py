"""Reads of the division tree. Regions are public reference data: no region restriction applies to
reading them, but `regions_for(user)` cuts them down to the subtrees a user holds roles for, which is
what forms offer as choices (a village worker picks among their own villages only)."""

from __future__ import annotations

import operator
from functools import reduce
from typing import Any

from django.db.models import Count, Q, QuerySet

from .models import Region, RegionLevel, ancestor_codes_of, level_of, prefix_of


def _prefix(code: str) -> str:
    """The subtree prefix of a 12-digit code; ValueError for anything else."""
    return prefix_of(code)


def subtree(code: str, *, include_self: bool = True) -> QuerySet[Region]:
    """The region and everything below it, in code order."""
    qs = Region.objects.filter(code__startswith=_prefix(code))
    return qs if include_self else qs.exclude(code=code)


def children_of(code: str) -> QuerySet[Region]:
    """The regions directly below `code`, each with `child_count` (how many regions are below it)."""
    level_of(code)  # validates the code
    return Region.objects.filter(parent_id=code).annotate(child_count=Count("children")).order_by("code")


def towns_of(district_code: str) -> QuerySet[Region]:
    """The towns, townships and streets (乡镇街道) of a district or county, with `village_count`."""
    return (
        Region.objects.filter(code__startswith=_prefix(district_code), level=RegionLevel.TOWN)
        .annotate(village_count=Count("children"))
        .order_by("code")
    )


def villages_of(code: str) -> QuerySet[Region]:
    """The villages and communities (村居) below a town, a district or any higher region."""
    return Region.objects.filter(code__startswith=_prefix(code), level=RegionLevel.VILLAGE).order_by("code")


def ancestors_of(code: str) -> list[Region]:
    """The loaded regions above `code`, from the province down, in one query."""
    codes = ancestor_codes_of(code)
    found = {r.code: r for r in Region.objects.filter(code__in=codes)}
    return [found[c] for c in codes if c in found]


def search(text: str, *, under: str | None = None, limit: int = 50) -> list[Region]:
    """Regions whose name or code contains `text` (codes also match by prefix), optionally in a subtree."""
    text = text.strip()
    if not text:
        return []
    qs = Region.objects.all()
    if under:
        qs = qs.filter(code__startswith=_prefix(under))
    match = Q(name__contains=text) | Q(short_name__contains=text)
    if text.isdigit():
        match |= Q(code__startswith=text)
    return list(qs.filter(match).select_related("parent").order_by("level", "code")[:limit])


def role_prefixes(user: Any) -> list[str] | None:
    """The subtree prefixes of the regions `user` holds any role for; None means every region."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    if user.is_superuser:
        return None
    prefixes = {prefix_of(code) for _role, code in user.role_regions()}
    return sorted(p for p in prefixes if not any(p != q and p.startswith(q) for q in prefixes))


def regions_for(user: Any, *, level: int | None = None) -> QuerySet[Region]:
    """The regions within the user's role regions (each role region and its whole subtree)."""
    prefixes = role_prefixes(user)
    qs = Region.objects.all()
    if prefixes is not None:
        if not prefixes:
            return qs.none()
        qs = qs.filter(reduce(operator.or_, (Q(code__startswith=p) for p in prefixes)))
    if level is not None:
        qs = qs.filter(level=level)
    return qs.order_by("code")


def region_choices_for(user: Any, *, level: int | None = None) -> list[tuple[str, str]]:
    """(code, label) choices for forms: the regions within the user's role regions.

    Labels carry the path below the district so that same-named villages stay apart
    (三元区 / 莘口镇 / 莘口村); two queries whatever the number of regions.
    """
    regions = list(regions_for(user, level=level))
    above = {c for r in regions for c in ancestor_codes_of(r.code)} - {r.code for r in regions}
    names = {r.code: r.display_name for r in regions}
    names.update({r.code: r.display_name for r in Region.objects.filter(code__in=above)})

    def label(region: Region) -> str:
        path = [c for c in ancestor_codes_of(region.code) if level_of(c) >= RegionLevel.COUNTY]
        return " / ".join([*(names[c] for c in path if c in names), region.display_name])

    return [(r.code, label(r)) for r in regions]


def loaded_districts() -> QuerySet[Region]:
    """The districts and counties whose towns are loaded, with `town_count`."""
    return (
        Region.objects.filter(level=RegionLevel.COUNTY)
        .annotate(town_count=Count("children"))
        .filter(town_count__gt=0)
        .order_by("code")
    )
