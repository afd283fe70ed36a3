"""/api/v1/regions/: the division tree as read-only reference data.

Regions carry no personal data, so there is no region restriction; the default permission class
still requires a logged-in user with a role. Filters: `level`, `parent`, `under` (a subtree) and
`q` (name contains, or code starts with).
"""

from __future__ import annotations

from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from pingantong.regions.models import Region, prefix_of

from .serializers import RegionSerializer

FILTERS = [
    OpenApiParameter("level", OpenApiTypes.INT, description="1 province … 5 village/community"),
    OpenApiParameter("parent", OpenApiTypes.STR, description="12-digit code of the parent"),
    OpenApiParameter("under", OpenApiTypes.STR, description="12-digit code: that region's subtree"),
    OpenApiParameter("q", OpenApiTypes.STR, description="name contains, or code starts with"),
]


def _code_param(request: Request, name: str) -> str | None:
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    try:
        prefix_of(value)
    except ValueError:
        raise exceptions.ValidationError({name: [f"{value!r} is not a 12-digit division code."]}) from None
    return value


@extend_schema(parameters=FILTERS)
class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = RegionSerializer
    lookup_field = "code"
    lookup_value_regex = r"\d{12}"
    filter_backends: list = []

    def get_queryset(self):
        qs = Region.objects.order_by("code")
        params = self.request.query_params
        if (level := params.get("level")) not in (None, ""):
            if level not in {"1", "2", "3", "4", "5"}:
                raise exceptions.ValidationError({"level": ["Level must be 1 to 5."]})
            qs = qs.filter(level=int(level))
        if (parent := _code_param(self.request, "parent")) is not None:
            qs = qs.filter(parent_id=parent)
        if (under := _code_param(self.request, "under")) is not None:
            qs = qs.filter(code__startswith=prefix_of(under))
        if text := params.get("q", "").strip():
            match = Q(name__contains=text) | Q(short_name__contains=text)
            if text.isdigit():
                match |= Q(code__startswith=text)
            qs = qs.filter(match)
        return qs

    @extend_schema(parameters=[], responses=RegionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def children(self, request: Request, code: str | None = None) -> Response:
        """The regions directly below this one (not paginated: a town has at most a few hundred)."""
        region = self.get_object()
        return Response(
            RegionSerializer(Region.objects.filter(parent=region).order_by("code"), many=True).data
        )
