"""Callbacks from providers (delivery reports, keypresses) and the anti-fraud channel's webhook.

Providers' report pushes carry no signature of their own, so their URLs may be protected with a
shared token (PINGANTONG_CALLBACK_TOKEN, sent as `?token=`); the fraud webhook is HMAC-signed
(PINGANTONG_FRAUD_WEBHOOK_SECRET, see channels/webhook.py).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from collections.abc import Callable

from defusedxml import ElementTree as SafeET
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ..actions import apply_receipt
from ..broadcasts import receive_fraud_alert
from ..channels.base import Receipt
from ..channels.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from ..channels.wechat import WechatChannel
from ..providers.aliyun import AliyunSms, AliyunVoice
from ..providers.tencent import TencentSms

logger = logging.getLogger(__name__)


def _token_ok(request: HttpRequest) -> bool:
    expected = os.environ.get("PINGANTONG_CALLBACK_TOKEN", "")
    return not expected or hmac.compare_digest(request.GET.get("token", ""), expected)


def _receipts_view(parse: Callable[[object], list[Receipt]], provider: str, ok: dict, bad: dict):
    @csrf_exempt
    @require_POST
    def view(request: HttpRequest) -> JsonResponse:
        if not _token_ok(request):
            return JsonResponse({**bad, "msg": "token"}, status=403)
        try:
            receipts = parse(json.loads(request.body or b"null"))
        except (ValueError, AttributeError) as exc:
            return JsonResponse({**bad, "msg": str(exc)[:200]}, status=400)
        for receipt in receipts:
            apply_receipt(receipt=receipt, provider=provider)
        return JsonResponse(ok)

    return view


aliyun_sms_report = _receipts_view(AliyunSms.parse_report, "aliyun", {"code": 0, "msg": "成功"}, {"code": 1})
aliyun_voice_report = _receipts_view(
    AliyunVoice.parse_report, "aliyun", {"code": 0, "msg": "成功"}, {"code": 1}
)
tencent_sms_status = _receipts_view(
    TencentSms.parse_callback, "tencent", {"result": 0, "errmsg": "OK"}, {"result": 1}
)


@csrf_exempt
@require_POST
def fraud_webhook(request: HttpRequest) -> JsonResponse:
    """S14: an anti-fraud channel reports fraud calls in an area → a draft broadcast for approval."""
    reason = verify_signature(
        secret=os.environ.get("PINGANTONG_FRAUD_WEBHOOK_SECRET", ""),
        timestamp=request.headers.get(TIMESTAMP_HEADER, ""),
        body=request.body,
        signature=request.headers.get(SIGNATURE_HEADER, ""),
    )
    if reason:
        return JsonResponse({"error": reason}, status=401)
    try:
        payload = json.loads(request.body)
        if not isinstance(payload, dict):
            raise ValueError("body must be a JSON object")
        broadcast = receive_fraud_alert(payload=payload)
    except ValueError as exc:
        return JsonResponse({"error": f"not valid JSON: {exc}"}, status=400)
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(exc.messages)}, status=400)
    return JsonResponse({"broadcast": broadcast.pk, "status": broadcast.status}, status=202)


@csrf_exempt
def wechat_event(request: HttpRequest) -> HttpResponse:
    """The official account's message URL: GET is WeChat's server check (echo `echostr`), POST
    carries events; TEMPLATESENDJOBFINISH is a template message's delivery result. Both are signed
    with sha1(sorted(token, timestamp, nonce)) (WECHAT_CALLBACK_TOKEN)."""
    token = os.environ.get("WECHAT_CALLBACK_TOKEN", "")
    parts = sorted([token, request.GET.get("timestamp", ""), request.GET.get("nonce", "")])
    expected = hashlib.sha1("".join(parts).encode()).hexdigest()  # noqa: S324 - WeChat's scheme
    if not token or not hmac.compare_digest(expected, request.GET.get("signature", "")):
        return HttpResponse("bad signature", status=403, content_type="text/plain")
    if request.method == "GET":
        return HttpResponse(request.GET.get("echostr", ""), content_type="text/plain")
    try:
        root = SafeET.fromstring(request.body)
    except (SafeET.ParseError, ValueError):
        return HttpResponse("bad xml", status=400, content_type="text/plain")
    receipt = WechatChannel.parse_event({child.tag: (child.text or "") for child in root})
    if receipt is not None:
        apply_receipt(receipt=receipt, provider="wechat")
    return HttpResponse("success", content_type="text/plain")
