"""Serializers of the care API: output shapes, and input shapes for the actions."""

from __future__ import annotations

from rest_framework import serializers

from ..choices import (
    CallResult,
    CounsellingMode,
    HealthStatus,
    Mood,
    Need,
    ReferralKind,
    TaskKind,
    TaskOutcome,
)
from ..models import (
    Activity,
    ActivitySignup,
    CareCall,
    CounsellingSession,
    DailyCoverage,
    DirectoryEntry,
    InterventionFlag,
    LifeSign,
    PartnerOrganisation,
    Referral,
    Task,
    TaskEvent,
    Visit,
)


class TaskSerializer(serializers.ModelSerializer):
    client_name = serializers.CharField(source="client.name", read_only=True, default="")

    class Meta:
        model = Task
        fields = [
            "id",
            "kind",
            "client",
            "client_name",
            "region",
            "due_at",
            "owner",
            "team",
            "status",
            "step",
            "escalation_level",
            "attempts",
            "reason",
            "outcome",
            "notes",
            "evidence",
            "source",
            "source_ref",
            "created_at",
            "updated_at",
            "completed_at",
        ]
        read_only_fields = fields


class TaskEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = TaskEvent
        fields = ["id", "at", "kind", "actor", "step", "level", "detail", "data"]


class TaskDetailSerializer(TaskSerializer):
    events = TaskEventSerializer(many=True, read_only=True)

    class Meta(TaskSerializer.Meta):
        fields = [*TaskSerializer.Meta.fields, "events"]
        read_only_fields = fields


class OpenTaskInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=TaskKind.choices)
    client = serializers.IntegerField()
    due_at = serializers.DateTimeField()
    reason = serializers.CharField(max_length=1000)
    team = serializers.CharField(required=False, allow_blank=True, default="")


class CompleteInput(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=TaskOutcome.choices)
    notes = serializers.JSONField(required=False, default=dict)


class EscalateInput(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class CareCallInput(serializers.Serializer):
    result = serializers.ChoiceField(choices=CallResult.choices)
    mood = serializers.ChoiceField(choices=Mood.choices, required=False, allow_blank=True, default="")
    health = serializers.ChoiceField(
        choices=HealthStatus.choices, required=False, allow_blank=True, default=""
    )
    needs = serializers.ListField(
        child=serializers.ChoiceField(choices=Need.choices), required=False, default=list
    )
    concerns = serializers.CharField(required=False, allow_blank=True, default="")
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class CareCallSerializer(serializers.ModelSerializer):
    class Meta:
        model = CareCall
        fields = [
            "id",
            "client",
            "region",
            "task",
            "mode",
            "at",
            "result",
            "keypress",
            "agent",
            "mood",
            "health",
            "needs",
            "concerns",
            "notes",
        ]
        read_only_fields = fields


class VisitSerializer(serializers.ModelSerializer):
    class Meta:
        model = Visit
        fields = [
            "id",
            "client",
            "region",
            "task",
            "worker",
            "status",
            "checked_in_at",
            "checkin_lat",
            "checkin_lon",
            "checkin_accuracy_m",
            "distance_m",
            "off_site_reason",
            "verified",
            "checklist",
            "notes",
            "client_confirmed",
            "client_confirmation",
            "completed_at",
        ]
        read_only_fields = fields


class CheckInInput(serializers.Serializer):
    task = serializers.IntegerField()
    latitude = serializers.FloatField(required=False, allow_null=True, default=None)
    longitude = serializers.FloatField(required=False, allow_null=True, default=None)
    accuracy_m = serializers.FloatField(required=False, allow_null=True, default=None)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class CompleteVisitInput(serializers.Serializer):
    checklist = serializers.DictField(child=serializers.BooleanField(), default=dict)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    needs = serializers.ListField(
        child=serializers.ChoiceField(choices=Need.choices), required=False, default=list
    )
    client_confirmed = serializers.BooleanField(default=False)
    client_confirmation = serializers.CharField(required=False, allow_blank=True, default="")


class LifeSignSerializer(serializers.ModelSerializer):
    class Meta:
        model = LifeSign
        fields = ["id", "client", "at", "source", "evidence"]
        read_only_fields = fields


class CoverageSerializer(serializers.ModelSerializer):
    class Meta:
        model = DailyCoverage
        fields = ["id", "region", "day", "due", "confirmed_by_life_sign", "tasks_opened", "swept_at"]
        read_only_fields = fields


class CounsellingSessionSerializer(serializers.ModelSerializer):
    class Meta:
        model = CounsellingSession
        fields = [
            "id",
            "client",
            "region",
            "counsellor",
            "at",
            "mode",
            "topics",
            "summary",
            "needs_intervention",
        ]
        read_only_fields = ["id", "region", "counsellor", "at"]


class CounsellingInput(serializers.Serializer):
    client = serializers.IntegerField()
    mode = serializers.ChoiceField(choices=CounsellingMode.choices)
    summary = serializers.CharField()
    topics = serializers.CharField(required=False, allow_blank=True, default="")
    needs_intervention = serializers.BooleanField(default=False)
    intervention_reason = serializers.CharField(required=False, allow_blank=True, default="")


class ReferralSerializer(serializers.ModelSerializer):
    class Meta:
        model = Referral
        fields = [
            "id",
            "client",
            "region",
            "kind",
            "partner",
            "service",
            "reason",
            "status",
            "outcome",
            "task",
            "referred_at",
            "referred_by",
            "closed_at",
        ]
        read_only_fields = fields


class ReferralInput(serializers.Serializer):
    client = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ReferralKind.choices)
    partner = serializers.IntegerField(required=False, allow_null=True, default=None)
    service = serializers.CharField(required=False, allow_blank=True, default="")
    reason = serializers.CharField()


class ReferralOutcomeInput(serializers.Serializer):
    status = serializers.CharField()
    outcome = serializers.CharField()


class InterventionFlagSerializer(serializers.ModelSerializer):
    class Meta:
        model = InterventionFlag
        fields = [
            "id",
            "client",
            "region",
            "reason",
            "session",
            "referral",
            "raised_at",
            "raised_by",
            "cleared_at",
        ]
        read_only_fields = fields


class PartnerOrganisationSerializer(serializers.ModelSerializer):
    class Meta:
        model = PartnerOrganisation
        fields = ["id", "name", "kind", "region", "phone", "address", "agreement_ref", "active"]


class DirectoryEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = DirectoryEntry
        fields = ["id", "category", "title", "region", "summary", "contact", "address", "url", "updated_at"]


class ActivitySerializer(serializers.ModelSerializer):
    signed_up = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Activity
        fields = [
            "id",
            "title",
            "kind",
            "region",
            "starts_at",
            "location",
            "capacity",
            "description",
            "signed_up",
        ]


class ActivitySignupSerializer(serializers.ModelSerializer):
    class Meta:
        model = ActivitySignup
        fields = ["id", "activity", "client", "signed_up_at", "attended"]
        read_only_fields = ["id", "activity", "signed_up_at"]
