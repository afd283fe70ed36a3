"""Tencent Cloud SMS (API 2021-01-11): SendSms, PullSmsSendStatus and the status callback.

Requests are signed with TC3-HMAC-SHA256: a canonical request (method, path, query, the
content-type and host headers, SHA-256 of the body) is hashed into a string to sign, and the key
is derived as HMAC("TC3"+SecretKey, date) → "sms" → "tc3_request". Templates are positional
(`{1}`, `{2}` …), so parameters are sent in the template's placeholder order. Credentials from
the environment: TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY, TENCENT_SMS_SDK_APP_ID,
TENCENT_SMS_SIGN_NAME; TENCENT_SMS_ENDPOINT overrides the base URL, TENCENT_SMS_REGION the region.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from ..channels.base import Outgoing, PermanentError, Receipt, SendResult, TransientError, env
from .http import json_of, post

SERVICE = "sms"
VERSION = "2021-01-11"
CONTENT_TYPE = "application/json; charset=utf-8"

TRANSIENT_PREFIXES = (
    "LimitExceeded",
    "RequestLimitExceeded",
    "InternalError",
    "FailedOperation.InsufficientBalance",
)


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def tc3_signature(*, secret_key: str, host: str, payload: str, timestamp: int, service: str = SERVICE) -> str:
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    canonical_request = "\n".join(
        [
            "POST",
            "/",
            "",
            f"content-type:{CONTENT_TYPE}\nhost:{host}\n",
            "content-type;host",
            hashlib.sha256(payload.encode()).hexdigest(),
        ]
    )
    string_to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            str(timestamp),
            f"{date}/{service}/tc3_request",
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def _is_transient(code: str) -> bool:
    return code.startswith(TRANSIENT_PREFIXES)


def e164(phone: str) -> str:
    digits = phone.strip()
    return digits if digits.startswith("+") else f"+86{digits}"


class TencentSms:
    name = "tencent"

    def __init__(
        self,
        *,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        sign_name: str,
        endpoint: str = "https://sms.tencentcloudapi.com",
        region: str = "ap-guangzhou",
        timeout: float = 10.0,
    ) -> None:
        self.secret_id = secret_id
        self.secret_key = secret_key
        self.sdk_app_id = sdk_app_id
        self.sign_name = sign_name
        self.endpoint = endpoint.rstrip("/") + "/"
        self.host = urlsplit(self.endpoint).netloc
        self.region = region
        self.timeout = timeout

    @classmethod
    def from_env(cls) -> TencentSms:
        return cls(
            secret_id=env("TENCENTCLOUD_SECRET_ID"),
            secret_key=env("TENCENTCLOUD_SECRET_KEY"),
            sdk_app_id=env("TENCENT_SMS_SDK_APP_ID"),
            sign_name=env("TENCENT_SMS_SIGN_NAME"),
            endpoint=env("TENCENT_SMS_ENDPOINT", "https://sms.tencentcloudapi.com"),
            region=env("TENCENT_SMS_REGION", "ap-guangzhou"),
        )

    def call(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        timestamp = int(time.time())
        date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
        signature = tc3_signature(
            secret_key=self.secret_key, host=self.host, payload=payload, timestamp=timestamp
        )
        headers = {
            "Authorization": (
                f"TC3-HMAC-SHA256 Credential={self.secret_id}/{date}/{SERVICE}/tc3_request, "
                f"SignedHeaders=content-type;host, Signature={signature}"
            ),
            "Content-Type": CONTENT_TYPE,
            "Host": self.host,
            "X-TC-Action": action,
            "X-TC-Version": VERSION,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Region": self.region,
        }
        response = post(self.endpoint, content=payload.encode(), headers=headers, timeout=self.timeout)
        data = (json_of(response) or {}).get("Response") or {}
        error = data.get("Error")
        if error:
            code = str(error.get("Code", "UnknownError"))
            cls = TransientError if _is_transient(code) else PermanentError
            raise cls(code, str(error.get("Message", ""))[:300])
        return data

    def send(self, message: Outgoing) -> SendResult:
        order = message.param_order or tuple(message.params)
        data = self.call(
            "SendSms",
            {
                "PhoneNumberSet": [e164(message.recipient)],
                "SmsSdkAppId": self.sdk_app_id,
                "SignName": self.sign_name,
                "TemplateId": message.template_code,
                "TemplateParamSet": [str(message.params.get(name, "")) for name in order],
                "SessionContext": message.idempotency_key[:512],
            },
        )
        statuses = data.get("SendStatusSet") or []
        if not statuses:
            raise TransientError("bad_response", "SendStatusSet is empty")
        status = statuses[0]
        code = str(status.get("Code", ""))
        if code != "Ok":
            cls = TransientError if _is_transient(code) else PermanentError
            raise cls(code, str(status.get("Message", ""))[:300])
        return SendResult(provider_message_id=str(status.get("SerialNo", "")))

    def pull_status(self, limit: int = 100) -> list[Receipt]:
        data = self.call("PullSmsSendStatus", {"Limit": limit, "SmsSdkAppId": self.sdk_app_id})
        return [
            Receipt(
                provider_message_id=str(item.get("SerialNo", "")),
                idempotency_key=str(item.get("SessionContext", "") or ""),
                delivered=item.get("ReportStatus") == "SUCCESS",
                code=str(item.get("Description", "")),
                at=datetime.fromtimestamp(int(item["UserReceiveTime"]), UTC)
                if item.get("UserReceiveTime")
                else None,
            )
            for item in data.get("PullSmsSendStatusSet") or []
        ]

    @staticmethod
    def parse_callback(payload: Any) -> list[Receipt]:
        """The status callback: a JSON array with `sid`, `report_status`, `errmsg`."""
        if not isinstance(payload, list):
            raise ValueError("status callback body must be a JSON array")
        from .aliyun import _parse_time

        return [
            Receipt(
                provider_message_id=str(item.get("sid", "")),
                delivered=item.get("report_status") == "SUCCESS",
                code=str(item.get("errmsg", "")),
                detail=str(item.get("description", "")),
                at=_parse_time(item.get("user_receive_time")),
            )
            for item in payload
        ]
