"""The division tree browser: a region, its children with counts, and their children one click away.

Regions are public reference data, so every logged-in user may browse every loaded region; the page
opens on the user's own region (the widest one they hold a role for) or on the first loaded district.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from . import selectors
from .loading import SANYUAN
from .models import Region, RegionLevel


def _default_root(user) -> str | None:
    prefixes = selectors.role_prefixes(user) or []
    own = (
        Region.objects.filter(code__in=[p.ljust(12, "0") for p in prefixes]).order_by("level", "code").first()
    )
    if own is not None and own.level < RegionLevel.VILLAGE:
        return own.code
    if own is not None:
        return own.parent_id
    # The district the platform serves first, then whichever district has towns loaded.
    districts = list(selectors.loaded_districts().values_list("code", flat=True))
    if SANYUAN in districts:
        return SANYUAN
    return districts[0] if districts else None


@login_required
def tree(request: HttpRequest) -> HttpResponse:
    """/regions/: the tree of the user's own district, or search results for ?q=."""
    query = request.GET.get("q", "").strip()
    if query:
        return render(
            request,
            "regions/search.html",
            {"query": query, "results": selectors.search(query), "districts": selectors.loaded_districts()},
        )
    root = _default_root(request.user)
    if root is None:
        return render(request, "regions/tree.html", {"region": None, "districts": []})
    return redirect("regions:detail", code=root)


@login_required
def detail(request: HttpRequest, code: str) -> HttpResponse:
    """/regions/<code>/: a region, its children (with counts) and, expandable, its grandchildren."""
    try:
        region = Region.objects.get(code=code)
    except (Region.DoesNotExist, ValueError):
        raise Http404 from None
    children = list(
        Region.objects.filter(parent=region).annotate(child_count=Count("children")).order_by("code")
    )
    grandchildren: dict[str, list[Region]] = {}
    for item in Region.objects.filter(parent__parent=region).order_by("code"):
        grandchildren.setdefault(item.parent_id or "", []).append(item)
    for child in children:
        child.items = grandchildren.get(child.code, [])  # type: ignore[attr-defined]
    context = {
        "region": region,
        "ancestors": selectors.ancestors_of(region.code),
        "children": children,
        "grandchild_count": sum(len(items) for items in grandchildren.values()),
        "child_level": RegionLevel(region.level + 1).label if region.level < RegionLevel.VILLAGE else "",
        "grandchild_level": RegionLevel(region.level + 2).label if region.level < RegionLevel.TOWN else "",
        "districts": selectors.loaded_districts(),
    }
    return render(request, "regions/tree.html", context)
