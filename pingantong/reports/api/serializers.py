from rest_framework import serializers

from ..models import Settlement, SettlementLine


class SettlementSerializer(serializers.ModelSerializer):
    total_subsidy = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)

    class Meta:
        model = Settlement
        fields = [
            "id",
            "region",
            "month",
            "status",
            "rate",
            "person_months",
            "basic_amount",
            "installation_count",
            "installation_amount",
            "client_paid_amount",
            "eligible_without_service",
            "total_subsidy",
            "computed_at",
            "submitted_at",
            "reviewed_at",
            "review_note",
        ]


class SettlementLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = SettlementLine
        fields = [
            "id",
            "settlement",
            "region",
            "client",
            "client_name",
            "kind",
            "amount",
            "evidence",
            "evidence_count",
            "query",
            "queried_at",
            "answer",
            "answered_at",
        ]
