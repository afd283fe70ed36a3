"""Output shapes of the regions API (read-only reference data)."""

from __future__ import annotations

from rest_framework import serializers

from pingantong.regions.models import Region


class RegionSerializer(serializers.ModelSerializer):
    parent = serializers.CharField(source="parent_id", allow_null=True, read_only=True)  # type: ignore[assignment]
    level_display = serializers.CharField(source="get_level_display", read_only=True)
    prefix = serializers.CharField(read_only=True)

    class Meta:
        model = Region
        fields = [
            "code",
            "name",
            "short_name",
            "level",
            "level_display",
            "parent",
            "prefix",
            "urban_rural_code",
        ]
        read_only_fields = fields
