"""API shapes of the notifications app."""

from __future__ import annotations

from rest_framework import serializers

from pingantong.core.masking import mask_phone

from ..models import Broadcast, Message, Template


class MessageSerializer(serializers.ModelSerializer):
    recipient = serializers.SerializerMethodField()
    text = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = [
            "id",
            "channel",
            "provider",
            "status",
            "priority",
            "purpose",
            "template_code",
            "text",
            "recipient",
            "recipient_name",
            "client",
            "contact",
            "related",
            "broadcast",
            "require_ack",
            "attempts",
            "provider_message_id",
            "failure_code",
            "failure_detail",
            "ack_result",
            "queued_at",
            "sent_at",
            "delivered_at",
            "acknowledged_at",
            "failed_at",
            "next_attempt_at",
        ]
        read_only_fields = fields

    def get_text(self, obj: Message) -> str | None:
        """Health or location texts only in the detail view (which logs the read), not in lists."""
        if obj.text_is_sensitive and not self.context.get("show_sensitive"):
            return None
        return obj.text

    def get_recipient(self, obj: Message) -> str:
        return mask_phone(obj.recipient) if obj.recipient.isdigit() else obj.recipient[:8] + "…"


class SendSerializer(serializers.Serializer):
    recipient = serializers.CharField(max_length=255)
    recipient_name = serializers.CharField(max_length=100, required=False, default="")
    template = serializers.SlugField()
    params = serializers.DictField(child=serializers.CharField(allow_blank=True), default=dict)
    channel = serializers.CharField(default="sms")
    purpose = serializers.CharField(default="other")
    priority = serializers.CharField(default="normal")
    idempotency_key = serializers.CharField(max_length=200)
    related = serializers.CharField(max_length=100, required=False, default="")
    region = serializers.CharField(max_length=12)


class TemplateSerializer(serializers.ModelSerializer):
    param_names = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Template
        fields = [
            "id",
            "code",
            "name",
            "purpose",
            "text",
            "param_names",
            "aliyun_sms_code",
            "aliyun_tts_code",
            "tencent_template_id",
            "wechat_template_id",
            "active",
            "region",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]


class BroadcastSerializer(serializers.ModelSerializer):
    template: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="code", read_only=True)
    progress_pct = serializers.IntegerField(read_only=True)

    class Meta:
        model = Broadcast
        fields = [
            "id",
            "title",
            "kind",
            "source",
            "status",
            "channel",
            "template",
            "params",
            "explanation",
            "region",
            "categories",
            "device_types",
            "include_contacts",
            "warning",
            "send_after",
            "created_at",
            "approved_at",
            "started_at",
            "finished_at",
            "total",
            "processed",
            "progress_pct",
        ]
        read_only_fields = fields


class BroadcastCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["weather", "fraud", "policy"])
    title = serializers.CharField(max_length=200)
    region = serializers.CharField(max_length=12)
    params = serializers.DictField(child=serializers.CharField(allow_blank=True))
    template: serializers.SlugField = serializers.SlugField(required=False)
    categories = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    device_types = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    include_contacts = serializers.BooleanField(default=False)
    explanation = serializers.CharField(required=False, default="", allow_blank=True)
    channel = serializers.ChoiceField(choices=["sms", "voice"], default="sms")
