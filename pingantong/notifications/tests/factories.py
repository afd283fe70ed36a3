"""Access-matrix factories (pingantong.testing.access_matrix): one record of each model per region."""

from __future__ import annotations

import itertools

from django.utils import timezone

_seq = itertools.count(1)


def _template(region_code: str):
    from pingantong.notifications.models import Template

    n = next(_seq)
    return Template.objects.create(
        code=f"access-{n}", name=f"access {n}", text="测试${name}", region_id=region_code
    )


def _message(region_code: str):
    from pingantong.notifications.models import Message

    n = next(_seq)
    return Message.objects.create(
        idempotency_key=f"access-{n}",
        channel="sms",
        recipient=f"1390000{n:04d}",
        text="测试",
        region_id=region_code,
        provider="development",
    )


def _preference(region_code: str):
    from pingantong.notifications.models import RecipientPreference

    return RecipientPreference.objects.create(recipient=f"1380000{next(_seq):04d}", region_id=region_code)


def _warning(region_code: str):
    from pingantong.notifications.models import WeatherWarning

    n = next(_seq)
    return WeatherWarning.objects.create(
        identifier=f"access-{n}",
        sender="气象台",
        sent=timezone.now(),
        msg_type="Alert",
        event="暴雨",
        severity="Severe",
        raw_xml="<alert/>",
        region_id=region_code,
    )


def _broadcast(region_code: str):
    from pingantong.notifications.models import Broadcast, Template

    return Broadcast.objects.create(
        title="测试",
        kind="policy",
        template=Template.objects.get(code="policy_s15"),
        params={"title": "t", "explanation": "e"},
        region_id=region_code,
    )


ACCESS_FACTORIES = {
    "notifications.Template": _template,
    "notifications.Message": _message,
    "notifications.RecipientPreference": _preference,
    "notifications.WeatherWarning": _warning,
    "notifications.Broadcast": _broadcast,
}
