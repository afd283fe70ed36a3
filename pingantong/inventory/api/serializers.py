"""Serializers of the inventory API (output shapes; inputs are validated by the actions)."""

from __future__ import annotations

from rest_framework import serializers

from ..models import Charge, DeviceCheck, DeviceModel, Installation, InstallationItem, StockEvent, StockItem


class DeviceModelSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeviceModel
        fields = [
            "id",
            "vendor",
            "model",
            "device_type",
            "protocol",
            "price",
            "multi_function",
            "basic_terminal",
        ]


class StockItemSerializer(serializers.ModelSerializer):
    device_type = serializers.CharField(source="device_model.device_type_id", read_only=True)

    class Meta:
        model = StockItem
        fields = [
            "id",
            "serial",
            "imei",
            "device_model",
            "device_type",
            "device",
            "iccid",
            "sim_number",
            "sim_real_name",
            "sim_real_name_confirmed_at",
            "state",
            "client",
            "region",
            "store_region",
            "replaced_by",
            "client_damaged",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class StockEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = StockEvent
        fields = [
            "id",
            "item",
            "action",
            "from_state",
            "to_state",
            "at",
            "by",
            "client",
            "region",
            "reason",
            "data",
        ]


class TransitionInputSerializer(serializers.Serializer):
    action = serializers.CharField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    client = serializers.IntegerField(required=False)
    client_damaged = serializers.BooleanField(required=False, default=False)
    substitute = serializers.IntegerField(required=False)


class ChargeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Charge
        fields = [
            "id",
            "client",
            "region",
            "household_key",
            "item",
            "device_model",
            "kind",
            "price",
            "subsidy_amount",
            "client_amount",
            "uses_basic_subsidy",
            "explanation",
            "created_at",
            "voided_at",
        ]


class InstallationItemSerializer(serializers.ModelSerializer):
    serial = serializers.CharField(source="item.serial", read_only=True)

    class Meta:
        model = InstallationItem
        fields = ["id", "item", "serial", "bound_at", "activated_at", "first_event"]


class InstallationSerializer(serializers.ModelSerializer):
    items = InstallationItemSerializer(many=True, read_only=True)
    photo_count = serializers.IntegerField(source="photos.count", read_only=True)

    class Meta:
        model = Installation
        fields = [
            "id",
            "client",
            "region",
            "installer",
            "status",
            "started_at",
            "tested_at",
            "carrier",
            "signal_dbm",
            "signal_bars",
            "mobility",
            "recommended_types",
            "checkin_at",
            "distance_m",
            "off_site_reason",
            "taught",
            "confirmed_by",
            "confirmed_name",
            "confirmed_at",
            "completed_at",
            "items",
            "photo_count",
        ]


class DeviceCheckSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeviceCheck
        fields = [
            "id",
            "device",
            "region",
            "week",
            "checked_at",
            "result",
            "last_press_at",
            "evidence",
            "task",
        ]


class DeviceHealthSerializer(serializers.Serializer):
    """One device's health (output of `selectors.health_of`)."""

    device = serializers.IntegerField()
    device_type = serializers.CharField()
    client = serializers.IntegerField(allow_null=True)
    last_message_at = serializers.DateTimeField(allow_null=True)
    battery_pct = serializers.IntegerField(allow_null=True)
    signal_pct = serializers.IntegerField(allow_null=True)
    silent_s = serializers.IntegerField(allow_null=True)
    threshold_s = serializers.IntegerField()
    problems = serializers.ListField(child=serializers.CharField())


class ReceiveInputSerializer(serializers.Serializer):
    serial = serializers.CharField(max_length=40)
    device_model = serializers.PrimaryKeyRelatedField(queryset=DeviceModel.objects.filter(active=True))
    imei = serializers.CharField(max_length=17, required=False, allow_blank=True, default="")
    identity = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    iccid = serializers.CharField(max_length=22, required=False, allow_blank=True, default="")
    sim_number = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    store_region = serializers.CharField(max_length=12)
