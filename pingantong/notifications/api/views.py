"""API of the notifications app: messages (list, send, acknowledge on the development channel),
templates (CRUD for managers) and broadcasts (create, approve, progress and report)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from pingantong.core.access import user_may, user_may_in_region
from pingantong.core.api import RestrictedGenericViewSet, RestrictedModelViewSet, RestrictedReadOnlyViewSet
from pingantong.core.audit import log_read, purpose_of

from ..actions import acknowledge_message, send_notification
from ..broadcasts import approve_broadcast, create_broadcast
from ..models import Broadcast, Message, Template
from ..selectors import broadcast_report
from .serializers import (
    BroadcastCreateSerializer,
    BroadcastSerializer,
    MessageSerializer,
    SendSerializer,
    TemplateSerializer,
)


class MessageViewSet(RestrictedReadOnlyViewSet):
    queryset = Message.objects.select_related("template").all()
    serializer_class = MessageSerializer
    filterset_fields = [
        "status",
        "channel",
        "purpose",
        "priority",
        "related",
        "client",
        "contact",
        "broadcast",
    ]
    restrict_action = {"acknowledge": "change", "send": "add"}

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        message = self.get_object()
        if message.sensitive_fields:
            log_read(
                user=request.user,
                obj=message,
                fields=message.sensitive_fields,
                purpose=purpose_of(request, "notification_record"),
                request=request,
            )
        return Response(MessageSerializer(message, context={"show_sensitive": True}).data)

    @action(detail=False, methods=["post"], serializer_class=SendSerializer)
    def send(self, request: Request) -> Response:
        data = SendSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        region = values.pop("region")
        if not user_may_in_region(request.user, "add", Message, region):
            raise PermissionDenied("You may not send messages in this region.")
        message = send_notification(region_id=region, created_by=request.user, **values)
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        """Development channel only: record the person's keypress (`answer`, default "1")."""
        message = self.get_object()
        if not user_may(request.user, "change", message):
            raise PermissionDenied
        if message.provider != "development":
            return Response(
                {"detail": "Only development-channel messages can be acknowledged here."},
                status=status.HTTP_400_BAD_REQUEST,
            )
        acknowledge_message(message=message, answer=str(request.data.get("answer", "1"))[:20])
        return Response(MessageSerializer(message).data)


class TemplateViewSet(RestrictedModelViewSet):
    queryset = Template.objects.all()
    serializer_class = TemplateSerializer
    filterset_fields = ["code", "purpose", "active"]


class BroadcastViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RestrictedGenericViewSet):
    queryset = Broadcast.objects.select_related("template").all()
    serializer_class = BroadcastSerializer
    filterset_fields = ["status", "kind", "source", "region"]
    restrict_action = {"approve": "view", "report": "view"}

    def create(self, request: Request) -> Response:
        data = BroadcastCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        broadcast = create_broadcast(created_by=request.user, **data.validated_data)
        return Response(BroadcastSerializer(broadcast).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        broadcast = approve_broadcast(broadcast=self.get_object(), user=request.user)
        return Response(BroadcastSerializer(broadcast).data)

    @action(detail=True, methods=["get"])
    def report(self, request: Request, pk: str | None = None) -> Response:
        broadcast = self.get_object()
        return Response({**BroadcastSerializer(broadcast).data, "report": broadcast_report(broadcast)})
