"""Pulling delivery results when a provider's report push was lost or is not configured:
Tencent `PullSmsSendStatus` (the account's pending statuses) and Aliyun `QuerySendDetails` (per
message, for SMS sent 10 min to 2 days ago that have no result yet)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from . import rules
from .actions import apply_receipt
from .channels import registry
from .channels.base import ChannelError
from .choices import ChannelKind, MessageStatus
from .models import Message


def poll_receipts(limit: int = 100) -> int:
    provider = registry.provider_for(ChannelKind.SMS)
    if provider not in {"tencent", "aliyun"}:
        return 0
    adapter = registry.get_channel(ChannelKind.SMS)
    applied = 0
    try:
        if provider == "tencent":
            for receipt in adapter.pull_status(limit=limit):  # type: ignore[attr-defined]
                applied += apply_receipt(receipt=receipt, provider="tencent") is not None
            return applied
        now = timezone.now()
        pending = Message.objects.filter(
            provider="aliyun",
            channel=ChannelKind.SMS,
            status=MessageStatus.SENT,
            sent_at__lt=now - timedelta(minutes=10),
            sent_at__gte=now - timedelta(days=2),
        ).exclude(provider_message_id="")[:limit]
        for message in pending:
            send_date = message.sent_at.astimezone(rules.LOCAL).strftime("%Y%m%d")  # type: ignore[union-attr]
            for receipt in adapter.query_send_details(  # type: ignore[attr-defined]
                phone=message.recipient, biz_id=message.provider_message_id, send_date=send_date
            ):
                applied += apply_receipt(receipt=receipt, provider="aliyun") is not None
    except ChannelError:
        return applied
    return applied
