"""The public service information page (X1): no login."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ..catalogue import BASIC_MONTHLY_SUBSIDY
from ..choices import Category, ItemKind
from ..models import ServiceItem


def service_info(request: HttpRequest) -> HttpResponse:
    """Service content, the basic package, extended items with prices, and how to apply."""
    items = list(ServiceItem.objects.filter(active=True))
    return render(
        request,
        "clients/service_info.html",
        {
            "basic": [i for i in items if i.kind == ItemKind.BASIC],
            "extended": [i for i in items if i.kind == ItemKind.EXTENDED],
            "subsidy": BASIC_MONTHLY_SUBSIDY,
            "categories": Category.choices,
        },
    )
