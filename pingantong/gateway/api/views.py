"""Gateway API: this process's listener counters (connections, frames, malformed, stored, acked)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pingantong.accounts.choices import Role
from pingantong.gateway.listeners.metrics import snapshot

from .serializers import GatewayMetricsSerializer, GatewayOverviewSerializer

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


class GatewayPageRoles(permissions.BasePermission):
    message = "Only installers, agency administrators and system administrators see the gateway overview."

    def has_permission(self, request, view) -> bool:
        from pingantong.gateway.views import PAGE_ROLES

        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        return bool(user.is_superuser or user.has_role(*PAGE_ROLES))


class GatewayOverviewView(APIView):
    """The gateway page's figures (decision 0103): connected sessions, messages/s and malformed
    frames per protocol and node across all gateway processes, read from the database and limited
    to the user's regions (pingantong.core.access)."""

    permission_classes = [GatewayPageRoles]
    serializer_class = GatewayOverviewSerializer

    @extend_schema(responses=GatewayOverviewSerializer)
    def get(self, request: Request) -> Response:
        from pingantong.gateway import selectors

        overview = selectors.gateway_overview(request.user)
        data = {
            "now": overview.now,
            "rate_window_s": int(selectors.RATE_WINDOW.total_seconds()),
            "rows": overview.rows,
            "by_protocol": overview.by_protocol,
            "unknown_devices": len(selectors.unbound_inbox(request.user, limit=1000)),
        }
        return Response(GatewayOverviewSerializer(data).data)
