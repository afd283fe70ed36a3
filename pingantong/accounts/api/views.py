"""API views of the accounts app."""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pingantong.core.api import RestrictedModelViewSet, RestrictedReadOnlyViewSet

from ..models import RoleAssignment, Shift
from .serializers import MeSerializer, RoleAssignmentSerializer, ShiftSerializer


class MeView(APIView):
    """`GET /api/v1/users/me/`: the logged-in user's identity, roles and regions."""

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)


class RoleAssignmentViewSet(RestrictedReadOnlyViewSet):
    """Role assignments in the caller's regions (agency and system administrators, auditors)."""

    queryset = RoleAssignment.objects.select_related("user", "region").order_by("user__username", "role")
    serializer_class = RoleAssignmentSerializer
    filterset_fields = ["role", "region"]


class ShiftFilter(filters.FilterSet):
    starts_after = filters.IsoDateTimeFilter(field_name="ends_at", lookup_expr="gt")
    starts_before = filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="lt")

    class Meta:
        model = Shift
        fields = ["user", "region", "seat"]


class ShiftViewSet(RestrictedModelViewSet):
    """The seat roster of the 24-hour call centre (O1)."""

    queryset = Shift.objects.select_related("user", "region").order_by("starts_at", "seat")
    serializer_class = ShiftSerializer
    filterset_class = ShiftFilter
