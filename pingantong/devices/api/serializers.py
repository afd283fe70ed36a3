"""API shapes of the devices app (input and output serializers kept apart where they differ)."""

from __future__ import annotations

from rest_framework import serializers

from pingantong.devices.models import CommandKind, Device, DeviceState, DownlinkCommand, UnknownDeviceInbox


class DeviceStateSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeviceState
        fields = [
            "battery_pct",
            "signal_pct",
            "steps",
            "last_message_at",
            "last_device_seen_at",
            "last_life_sign_at",
            "last_life_sign_source",
            "connected_node",
        ]


class DevicePositionSerializer(serializers.ModelSerializer):
    """Location is sensitive: only in the detail view, and the read is audit-logged."""

    class Meta:
        model = DeviceState
        fields = ["latitude", "longitude", "position_valid", "position_at"]


class DeviceSerializer(serializers.ModelSerializer):
    state = DeviceStateSerializer(read_only=True)
    bound = serializers.BooleanField(source="is_bound", read_only=True)

    class Meta:
        model = Device
        fields = [
            "id",
            "protocol",
            "identity",
            "device_type",
            "model_name",
            "client",
            "bound",
            "region",
            "tz_offset_minutes",
            "status",
            "state",
        ]


class DeviceDetailSerializer(DeviceSerializer):
    position = serializers.SerializerMethodField()

    class Meta(DeviceSerializer.Meta):
        fields = [*DeviceSerializer.Meta.fields, "iccid", "sim_number", "position"]

    def get_position(self, obj: Device) -> dict | None:
        state = getattr(obj, "state", None)
        return (
            DevicePositionSerializer(state).data if state is not None and state.latitude is not None else None
        )


class CommandSerializer(serializers.ModelSerializer):
    class Meta:
        model = DownlinkCommand
        fields = [
            "id",
            "device",
            "kind",
            "payload",
            "status",
            "created_at",
            "expires_at",
            "sent_at",
            "confirmed_at",
            "attempts",
            "error",
            "issued_by",
        ]
        read_only_fields = fields


class CommandInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CommandKind.choices)
    payload = serializers.DictField(required=False, default=dict)


class UnknownDeviceSerializer(serializers.ModelSerializer):
    class Meta:
        model = UnknownDeviceInbox
        fields = [
            "id",
            "protocol",
            "identity",
            "first_seen_at",
            "last_seen_at",
            "frame_count",
            "last_peer",
            "last_alarms",
            "bound_device",
        ]
