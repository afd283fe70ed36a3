"""Gateway API: this process's listener counters (connections, frames, malformed, stored, acked)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pingantong.accounts.choices import Role
from pingantong.gateway.listeners.metrics import snapshot

from .serializers import GatewayMetricsSerializer

OPERATORS = {Role.SYSADMIN, Role.AGENCY_ADMIN, Role.SUPERVISOR, Role.DISTRICT}


class GatewayOperator(permissions.BasePermission):
    message = "Only system administrators and supervisors see gateway metrics."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        return bool(user.is_superuser or user.has_role(*OPERATORS))


class GatewayMetricsView(APIView):
    """Counters of the listeners running in this process (the embedded default runs them all in
    the web server's process; in scaled mode ask each gateway node)."""

    permission_classes = [GatewayOperator]
    serializer_class = GatewayMetricsSerializer

    @extend_schema(responses=GatewayMetricsSerializer)
    def get(self, request: Request) -> Response:
        from pingantong.gateway.ingest import INGESTORS

        counters = {
            "listeners": snapshot(),
            "ingest": {node: vars(i.metrics) for node, i in INGESTORS.items()},
        }
        return Response(GatewayMetricsSerializer(counters).data)
