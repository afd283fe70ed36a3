"""API of the inventory app: stock (with transitions), history, charges, installations, weekly
checks, device health and the catalogue."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils import timezone
from rest_framework import exceptions, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from pingantong.clients.models import Client
from pingantong.core.access import user_may_in_region
from pingantong.core.api import RestrictedGenericViewSet, RestrictedReadOnlyViewSet
from pingantong.devices.models import Device

from .. import actions
from ..choices import StockAction
from ..models import Charge, DeviceCheck, DeviceModel, Installation, StockEvent, StockItem
from ..selectors import health_of, supervised_devices
from .serializers import (
    ChargeSerializer,
    DeviceCheckSerializer,
    DeviceHealthSerializer,
    DeviceModelSerializer,
    InstallationSerializer,
    ReceiveInputSerializer,
    StockEventSerializer,
    StockItemSerializer,
    TransitionInputSerializer,
)


class DeviceModelViewSet(viewsets.ReadOnlyModelViewSet):
    """The catalogue (reference data, no personal data)."""

    queryset = DeviceModel.objects.filter(active=True).order_by("pk")
    serializer_class = DeviceModelSerializer
    permission_classes = [permissions.IsAuthenticated]


class StockItemViewSet(RestrictedReadOnlyViewSet):
    """Stock in the user's regions; POST `transition/` runs one action (assign, report_fault …)."""

    queryset = StockItem.objects.select_related("device_model").order_by("pk")
    serializer_class = StockItemSerializer
    restrict_action = {"transition": "change"}
    filterset_fields = ["state", "client", "device_model"]

    def create(self, request: Request) -> Response:
        """Receive a new device into stock at a store region the user may add to."""
        data = ReceiveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = dict(data.validated_data)
        if not user_may_in_region(request.user, "add", StockItem, d["store_region"]):
            raise exceptions.PermissionDenied("This store is outside the regions you may add to.")
        try:
            item = actions.receive_stock_item(by=request.user, **d)
        except actions.StockError as exc:
            raise exceptions.ValidationError({"serial": [str(exc)]}) from None
        return Response(StockItemSerializer(item).data, status=201)

    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str | None = None) -> Response:
        item = self.get_object()
        data = TransitionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        name, reason, by = d["action"], d["reason"], request.user
        try:
            if name == StockAction.ASSIGN:
                client = get_object_or_404(Client.objects.restrict(request.user, "view"), pk=d.get("client"))
                item, charge = actions.assign_stock_item(item=item, client=client, by=by)
                return Response({**StockItemSerializer(item).data, "charge": ChargeSerializer(charge).data})
            if name == StockAction.REPLACE:
                substitute = get_object_or_404(
                    StockItem.objects.restrict(request.user, "change"), pk=d.get("substitute")
                )
                item, charge = actions.replace_stock_item(
                    item=item, substitute=substitute, reason=reason, by=by
                )
                return Response({**StockItemSerializer(item).data, "charge": ChargeSerializer(charge).data})
            simple = {
                StockAction.CANCEL_ASSIGNMENT: lambda: actions.cancel_assignment(
                    item=item, reason=reason, by=by
                ),
                StockAction.REPORT_FAULT: lambda: actions.report_fault(
                    item=item, reason=reason, client_damaged=d["client_damaged"], by=by
                ),
                StockAction.SEND_TO_REPAIR: lambda: actions.send_to_repair(item=item, reason=reason, by=by),
                StockAction.RETURN_FROM_REPAIR: lambda: actions.return_from_repair(
                    item=item, reason=reason, by=by
                ),
                StockAction.TAKE_BACK: lambda: actions.take_back(
                    item=item, reason=reason or "taken back", by=by
                ),
                StockAction.RETIRE: lambda: actions.retire_stock_item(item=item, reason=reason, by=by),
            }
            if name not in simple:
                actions.check_transition(item, name)
                raise actions.StockError("This action is done through the installation flow.")
            item = simple[name]()
        except actions.StockError as exc:
            raise exceptions.ValidationError({"action": [str(exc)]}) from None
        item.refresh_from_db()
        return Response(StockItemSerializer(item).data)


class StockEventViewSet(RestrictedReadOnlyViewSet):
    queryset = StockEvent.objects.order_by("pk")
    serializer_class = StockEventSerializer
    filterset_fields = ["item", "action", "client"]


class ChargeViewSet(RestrictedReadOnlyViewSet):
    queryset = Charge.objects.order_by("pk")
    serializer_class = ChargeSerializer
    filterset_fields = ["client", "kind"]


class InstallationViewSet(RestrictedReadOnlyViewSet):
    """Installation records: the evidence of the first-installation cost (F1, P3)."""

    queryset = Installation.objects.prefetch_related("items__item", "photos").order_by("pk")
    serializer_class = InstallationSerializer
    filterset_fields = ["client", "status"]


class DeviceCheckViewSet(RestrictedReadOnlyViewSet):
    queryset = DeviceCheck.objects.order_by("pk")
    serializer_class = DeviceCheckSerializer
    filterset_fields = ["device", "week", "result"]


class DeviceHealthViewSet(RestrictedGenericViewSet):
    """Each supervised device's health (two queries however many devices)."""

    queryset = Device.objects.all()
    serializer_class = DeviceHealthSerializer

    def get_queryset(self):
        return supervised_devices().restrict(self.request.user, "view")

    def list(self, request: Request) -> Response:
        rows = health_of(self.get_queryset()[:1000], timezone.now())
        return Response(
            DeviceHealthSerializer(
                [
                    {
                        "device": h.device.pk,
                        "device_type": h.device.device_type_id,
                        "client": h.device.client_id,
                        "last_message_at": h.last_message_at,
                        "battery_pct": h.battery_pct,
                        "signal_pct": h.signal_pct,
                        "silent_s": int(h.silent_for.total_seconds()) if h.silent_for is not None else None,
                        "threshold_s": int(h.threshold.total_seconds()),
                        "problems": h.problems,
                    }
                    for h in rows
                ],
                many=True,
            ).data
        )
