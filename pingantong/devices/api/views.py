"""API of the devices app: the registry (read), downlink commands, the unknown-device inbox."""

from __future__ import annotations

from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from pingantong.core.access import user_may
from pingantong.core.api import RestrictedReadOnlyViewSet
from pingantong.core.audit import log_read
from pingantong.devices import actions
from pingantong.devices.api.serializers import (
    CommandInputSerializer,
    CommandSerializer,
    DeviceDetailSerializer,
    DeviceSerializer,
    UnknownDeviceSerializer,
)
from pingantong.devices.models import Device, DownlinkCommand, UnknownDeviceInbox


class DeviceViewSet(RestrictedReadOnlyViewSet):
    """Terminals in the user's regions; `commands/` lists and queues downlink commands."""

    queryset = Device.objects.select_related("state", "device_type").order_by("pk")
    serializer_class = DeviceSerializer
    restrict_action = {"commands": "view"}
    filterset_fields = ["protocol", "device_type", "client", "status"]

    def get_serializer_class(self):
        return DeviceDetailSerializer if self.action == "retrieve" else DeviceSerializer

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        device = self.get_object()
        data = DeviceDetailSerializer(device).data
        if data.get("position"):
            log_read(
                user=request.user, obj=device, fields=["location"], purpose="device status", request=request
            )
        return Response(data)

    @action(detail=True, methods=["get", "post"])
    def commands(self, request: Request, pk: str | None = None) -> Response:
        device = self.get_object()
        if request.method == "GET":
            rows = DownlinkCommand.objects.filter(device=device).order_by("-created_at")[:100]
            return Response(CommandSerializer(rows, many=True).data)
        if not user_may(request.user, "add", DownlinkCommand(device=device)):
            raise exceptions.PermissionDenied("You may not send commands to devices in this region.")
        incoming = CommandInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            command = actions.queue_command(
                device=device,
                kind=incoming.validated_data["kind"],
                payload=incoming.validated_data["payload"],
                issued_by=request.user,
            )
        except actions.CommandError as exc:
            raise exceptions.ValidationError({"payload": [str(exc)]}) from None
        return Response(CommandSerializer(command).data, status=status.HTTP_201_CREATED)


class DownlinkCommandViewSet(RestrictedReadOnlyViewSet):
    """Every downlink command in the user's regions, newest first."""

    queryset = DownlinkCommand.objects.order_by("-created_at")
    serializer_class = CommandSerializer
    filterset_fields = ["status", "kind", "device"]


class UnknownDeviceViewSet(RestrictedReadOnlyViewSet):
    """Terminals that talked to us but are not registered yet (for installers to bind)."""

    queryset = UnknownDeviceInbox.objects.order_by("-last_seen_at")
    serializer_class = UnknownDeviceSerializer
