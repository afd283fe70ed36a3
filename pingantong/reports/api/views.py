"""Read-only API of settlements and their lines (the workflow runs through the pages' actions)."""

from pingantong.core.api import RestrictedReadOnlyViewSet

from ..models import Settlement, SettlementLine
from .serializers import SettlementLineSerializer, SettlementSerializer


class SettlementViewSet(RestrictedReadOnlyViewSet):
    queryset = Settlement.objects.all()
    serializer_class = SettlementSerializer
    filterset_fields = ["month", "status"]


class SettlementLineViewSet(RestrictedReadOnlyViewSet):
    queryset = SettlementLine.objects.all()
    serializer_class = SettlementLineSerializer
    filterset_fields = ["settlement", "kind", "client"]
