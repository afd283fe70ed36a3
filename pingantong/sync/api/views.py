"""Read-only API of the outbox (for monitoring the provincial sync)."""

from rest_framework import serializers

from pingantong.core.api import RestrictedReadOnlyViewSet

from ..models import OutboxEvent


class OutboxEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = OutboxEvent
        fields = [
            "id",
            "idempotency_key",
            "topic",
            "object_type",
            "object_id",
            "region",
            "created_at",
            "status",
            "attempts",
            "next_attempt_at",
            "last_error",
            "sent_at",
            "remote_id",
        ]


class OutboxEventViewSet(RestrictedReadOnlyViewSet):
    queryset = OutboxEvent.objects.all()
    serializer_class = OutboxEventSerializer
    filterset_fields = ["status", "topic"]
