"""API shapes of the clients app. Lists show masked ID numbers and phones (X2); the full ID number is
only in the `reveal` action, which logs the read."""

from __future__ import annotations

from rest_framework import serializers

from pingantong.core.masking import mask_phone

from ..choices import Category
from ..models import (
    Agreement,
    Application,
    ApplicationStep,
    Client,
    Consent,
    Contact,
    FrequencyChangeRequest,
    Termination,
)


class ClientListSerializer(serializers.ModelSerializer):
    phone = serializers.SerializerMethodField()
    region_name = serializers.CharField(source="region.display_name", read_only=True)

    class Meta:
        model = Client
        fields = [
            "id",
            "name",
            "gender",
            "id_number_masked",
            "birth_date",
            "region",
            "region_name",
            "phone",
            "categories",
            "risk_tier",
            "ability_grade",
            "status",
            "paying_scheme",
        ]

    def get_phone(self, obj: Client) -> str:
        return mask_phone(obj.phone)


class ClientDetailSerializer(serializers.ModelSerializer):
    """Full record for the people who act on it (phones unmasked for those permitted by the view)."""

    id_number = serializers.CharField(write_only=True, required=False)
    categories = serializers.ListField(child=serializers.ChoiceField(Category.choices), required=False)

    class Meta:
        model = Client
        fields = [
            "id",
            "name",
            "gender",
            "id_number",
            "id_number_masked",
            "birth_date",
            "household_region_code",
            "region",
            "address",
            "home_lat",
            "home_lon",
            "home_location_source",
            "phone",
            "phone2",
            "dialect",
            "living_situation",
            "categories",
            "risk_tier",
            "ability_grade",
            "medical_notes",
            "allergies",
            "key_holder",
            "access_notes",
            "paying_scheme",
            "monthly_price",
            "status",
            "quiet_hours_start",
            "quiet_hours_end",
            "preferred_call_times",
            "call_interval_days",
            "visit_interval_days",
            "enrolled_at",
            "service_end_date",
            "notes",
        ]
        read_only_fields = [
            "gender",
            "id_number_masked",
            "birth_date",
            "status",
            "home_location_source",
            "call_interval_days",
            "visit_interval_days",
            "enrolled_at",
            "service_end_date",
        ]


class ContactSerializer(serializers.ModelSerializer):
    def validate_phone(self, value: str) -> str:
        from ..actions.clients import is_phone_number

        if not is_phone_number(value):
            raise serializers.ValidationError("Not a phone number.")
        return value

    class Meta:
        model = Contact
        fields = [
            "id",
            "client",
            "name",
            "relation",
            "phone",
            "phone2",
            "priority",
            "available_from",
            "available_until",
            "availability_notes",
            "preferred_channel",
            "wechat_id",
            "is_street_designated",
            "lives_nearby",
            "has_key",
        ]


class ConsentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Consent
        fields = [
            "id",
            "client",
            "purpose",
            "granted",
            "effective_at",
            "method",
            "given_by",
            "notes",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = ["recorded_by", "recorded_at"]
        extra_kwargs = {"effective_at": {"required": False}}


class ApplicationStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApplicationStep
        fields = ["action", "actor", "role", "at", "note"]


class ApplicationSerializer(serializers.ModelSerializer):
    client_name = serializers.CharField(source="client.name", read_only=True)
    steps = ApplicationStepSerializer(many=True, read_only=True)

    class Meta:
        model = Application
        fields = [
            "id",
            "client",
            "client_name",
            "status",
            "requested_scheme",
            "eligible",
            "eligibility_notes",
            "statement",
            "filed_by",
            "filed_at",
            "decided_by",
            "decided_at",
            "return_reason",
            "recorded_by",
            "recorded_at",
            "steps",
        ]
        read_only_fields = fields


class ApplicationCreateSerializer(serializers.Serializer):
    id_number = serializers.CharField()
    name = serializers.CharField(max_length=50)
    region = serializers.CharField(max_length=12)
    household_region_code = serializers.CharField(max_length=12, required=False, default="")
    address = serializers.CharField(required=False, default="")
    phone = serializers.CharField(required=False, default="")
    categories = serializers.ListField(
        child=serializers.ChoiceField(Category.choices), required=False, default=list
    )
    statement = serializers.CharField(required=False, default="")
    requested_scheme = serializers.CharField(required=False, default="basic_package")


class DecisionSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, default="", allow_blank=True)


class AgreementSerializer(serializers.ModelSerializer):
    items: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )

    class Meta:
        model = Agreement
        fields = [
            "id",
            "client",
            "status",
            "items",
            "basic_monthly_fee",
            "extended_monthly_fee",
            "starts_on",
            "ends_on",
            "signed_on",
            "signed_by",
            "signer_relation",
        ]
        read_only_fields = fields


class FrequencyChangeRequestSerializer(serializers.ModelSerializer):
    class Meta:
        model = FrequencyChangeRequest
        fields = [
            "id",
            "client",
            "kind",
            "interval_days",
            "reason",
            "status",
            "requested_at",
            "requested_via",
            "confirmed_at",
            "confirmation_method",
        ]
        read_only_fields = ["status", "requested_at", "confirmed_at", "confirmation_method"]


class TerminationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Termination
        fields = ["id", "client", "reason", "effective_date", "details", "recorded_by", "recorded_at"]
        read_only_fields = fields
