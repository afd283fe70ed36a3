"""The public location page of S08 (no login: the signed link is the authority)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from pingantong.core.audit import log_read

from ..location import ShareLinkError, open_share_token
from ..selectors import latest_position

STATUS = {"expired": 410, "forged": 403, "unknown": 404, "consent": 403}


@never_cache
def location_share(request: HttpRequest, token: str) -> HttpResponse:
    try:
        shared = open_share_token(token)
    except ShareLinkError as exc:
        return render(
            request,
            "notifications/location_share.html",
            {"error": str(exc), "reason": exc.reason},
            status=STATUS[exc.reason],
        )
    position = latest_position(shared.client)
    log_read(
        user=request.user,
        obj=shared.client,
        fields=["location"],
        purpose="location_share:contact_link",
        request=request,
    )
    response = render(
        request,
        "notifications/location_share.html",
        {
            "client_name": shared.client.name,
            "position": position,
            "tile_url": getattr(settings, "PINGANTONG_MAP_TILE_URL", ""),
        },
    )
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response
