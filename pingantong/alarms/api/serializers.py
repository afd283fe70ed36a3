"""API shapes of the alarm centre. `AlarmSerializer` carries the public-contract fields
(`id`, `alarm_type`, `priority`, `status`, `device_id`, `client`, `raised_at`) first."""

from __future__ import annotations

from rest_framework import serializers

from ..choices import MANUAL_STEPS, Outcome
from ..models import Alarm, AlarmStep, Signal


class AlarmSerializer(serializers.ModelSerializer):
    device_id = serializers.CharField(source="device_ident", read_only=True)
    claimed_by: serializers.StringRelatedField = serializers.StringRelatedField()
    escalated = serializers.SerializerMethodField()

    class Meta:
        model = Alarm
        fields = [
            "id",
            "alarm_type",
            "priority",
            "status",
            "device_id",
            "client",
            "raised_at",
            "detail",
            "region",
            "from_unbound_device",
            "occurrences",
            "last_occurrence_at",
            "escalated",
            "escalated_at",
            "claimed_at",
            "claimed_by",
            "closed_at",
            "outcome",
            "review_required",
            "reviewed_at",
        ]
        read_only_fields = fields

    def get_escalated(self, obj: Alarm) -> bool:
        return obj.escalated_at is not None


class AlarmStepSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_name", read_only=True)

    class Meta:
        model = AlarmStep
        fields = ["id", "kind", "at", "actor", "note", "data"]
        read_only_fields = fields


class AlarmDetailSerializer(AlarmSerializer):
    steps = AlarmStepSerializer(many=True, read_only=True)

    class Meta(AlarmSerializer.Meta):
        fields = [*AlarmSerializer.Meta.fields, "note", "latitude", "longitude", "source_event_ids", "steps"]
        read_only_fields = fields


class AlarmStepInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[(k.value, k.label) for k in MANUAL_STEPS])
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    result = serializers.CharField(required=False, allow_blank=True, default="", max_length=20)


class AlarmCloseInput(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class AlarmReviewInput(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class SignalSerializer(serializers.ModelSerializer):
    device_id = serializers.CharField(source="device_ident", read_only=True)

    class Meta:
        model = Signal
        fields = ["id", "signal_type", "device_id", "client", "region", "recorded_at", "data"]
        read_only_fields = fields
