"""Aliyun 云通信: SMS (dysmsapi SendSms / QuerySendDetails / SmsReport) and voice notification
(dyvmsapi SingleCallByTts / VoiceReport with the `dtmf` key the person pressed).

Both are RPC-style APIs signed with the v1 signature: HMAC-SHA1 of
`POST&%2F&percentEncode(canonicalised query)` with the key `AccessKeySecret&`, where the
canonicalised query is the sorted, RFC 3986-encoded parameters including AccessKeyId,
SignatureNonce and Timestamp. Credentials come only from the environment:
ALIYUN_ACCESS_KEY_ID, ALIYUN_ACCESS_KEY_SECRET, ALIYUN_SMS_SIGN_NAME, ALIYUN_VOICE_SHOW_NUMBER;
ALIYUN_SMS_ENDPOINT and ALIYUN_VOICE_ENDPOINT override the base URLs (tests point them at a
local server).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from ..channels.base import Outgoing, PermanentError, Receipt, SendResult, TransientError, env
from .http import json_of, post

# Codes after which the same request may succeed later (flow control, throttling, busy service).
TRANSIENT_CODES = {
    "isv.BUSINESS_LIMIT_CONTROL",
    "isv.DAY_LIMIT_CONTROL",
    "Throttling",
    "Throttling.User",
    "Throttling.Api",
    "ServiceUnavailable",
    "InternalError",
    "SignatureNonceUsed",
}


def percent_encode(value: str) -> str:
    return quote(str(value), safe="~")


def canonical_query(params: dict[str, str]) -> str:
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))


def rpc_signature(params: dict[str, str], secret: str, method: str = "POST") -> str:
    """The v1 RPC signature of `params` (which must not contain `Signature`)."""
    string_to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunRpc:
    """A signed call to one Aliyun RPC endpoint."""

    def __init__(
        self,
        *,
        endpoint: str,
        version: str,
        access_key_id: str,
        access_key_secret: str,
        timeout: float = 10.0,
    ) -> None:
        self.endpoint = endpoint.rstrip("/") + "/"
        self.version = version
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.timeout = timeout

    def call(self, action: str, params: dict[str, str]) -> dict[str, Any]:
        signed = {
            "Action": action,
            "Version": self.version,
            "Format": "JSON",
            "AccessKeyId": self.access_key_id,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
            "SignatureNonce": uuid.uuid4().hex,
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            **{k: str(v) for k, v in params.items()},
        }
        signed["Signature"] = rpc_signature(signed, self.access_key_secret)
        response = post(self.endpoint, data=signed, timeout=self.timeout)
        body = json_of(response)
        code = str(body.get("Code", ""))
        if code != "OK":
            error = TransientError if code in TRANSIENT_CODES else PermanentError
            raise error(code or f"http_{response.status_code}", str(body.get("Message", ""))[:300])
        return body


def _parse_time(value: str | None) -> datetime | None:
    """Aliyun reports local Beijing time as 'YYYY-MM-DD hh:mm:ss'."""
    if not value:
        return None
    from zoneinfo import ZoneInfo

    try:
        local = datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    except ValueError:
        return None
    return local.astimezone(UTC)


class AliyunSms:
    """Aliyun SMS through dysmsapi (2017-05-25)."""

    name = "aliyun"

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        endpoint: str = "https://dysmsapi.aliyuncs.com",
        timeout: float = 10.0,
    ) -> None:
        self.sign_name = sign_name
        self.rpc = AliyunRpc(
            endpoint=endpoint,
            version="2017-05-25",
            access_key_id=access_key_id,
            access_key_secret=access_key_secret,
            timeout=timeout,
        )

    @classmethod
    def from_env(cls) -> AliyunSms:
        return cls(
            access_key_id=env("ALIYUN_ACCESS_KEY_ID"),
            access_key_secret=env("ALIYUN_ACCESS_KEY_SECRET"),
            sign_name=env("ALIYUN_SMS_SIGN_NAME"),
            endpoint=env("ALIYUN_SMS_ENDPOINT", "https://dysmsapi.aliyuncs.com"),
        )

    def send(self, message: Outgoing) -> SendResult:
        body = self.rpc.call(
            "SendSms",
            {
                "PhoneNumbers": message.recipient,
                "SignName": self.sign_name,
                "TemplateCode": message.template_code,
                "TemplateParam": json.dumps(message.params, ensure_ascii=False),
                "OutId": message.idempotency_key[:256],
            },
        )
        return SendResult(provider_message_id=str(body.get("BizId", "")))

    def query_send_details(self, *, phone: str, biz_id: str, send_date: str) -> list[Receipt]:
        """Poll delivery results (QuerySendDetails); `send_date` is yyyyMMdd (Beijing)."""
        body = self.rpc.call(
            "QuerySendDetails",
            {
                "PhoneNumber": phone,
                "BizId": biz_id,
                "SendDate": send_date,
                "PageSize": "10",
                "CurrentPage": "1",
            },
        )
        details = (body.get("SmsSendDetailDTOs") or {}).get("SmsSendDetailDTO") or []
        receipts = []
        for item in details:
            status = int(item.get("SendStatus", 1))  # 1 waiting for receipt, 2 failed, 3 delivered
            if status == 1:
                continue
            receipts.append(
                Receipt(
                    provider_message_id=biz_id,
                    idempotency_key=str(item.get("OutId", "")),
                    delivered=status == 3,
                    code=str(item.get("ErrCode", "")),
                    at=_parse_time(item.get("ReceiveDate")),
                )
            )
        return receipts

    @staticmethod
    def parse_report(payload: Any) -> list[Receipt]:
        """The SmsReport HTTP push: a JSON array of delivery results."""
        if not isinstance(payload, list):
            raise ValueError("SmsReport body must be a JSON array")
        return [
            Receipt(
                provider_message_id=str(item.get("biz_id", "")),
                idempotency_key=str(item.get("out_id", "") or ""),
                delivered=bool(item.get("success")),
                code=str(item.get("err_code", "")),
                detail=str(item.get("err_msg", "")),
                at=_parse_time(item.get("report_time")),
            )
            for item in payload
        ]


# VoiceReport status codes that mean the person picked up and heard the message.
VOICE_ANSWERED = {"200000", "200100"}


class AliyunVoice:
    """Aliyun voice notification (dyvmsapi 2017-05-25 SingleCallByTts): a text-to-speech call that
    asks the person to press a key; the VoiceReport carries the key as `dtmf`."""

    name = "aliyun_voice"

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        show_number: str = "",
        endpoint: str = "https://dyvmsapi.aliyuncs.com",
        play_times: int = 2,
        timeout: float = 10.0,
    ) -> None:
        self.show_number = show_number
        self.play_times = play_times
        self.rpc = AliyunRpc(
            endpoint=endpoint,
            version="2017-05-25",
            access_key_id=access_key_id,
            access_key_secret=access_key_secret,
            timeout=timeout,
        )

    @classmethod
    def from_env(cls) -> AliyunVoice:
        return cls(
            access_key_id=env("ALIYUN_ACCESS_KEY_ID"),
            access_key_secret=env("ALIYUN_ACCESS_KEY_SECRET"),
            show_number=env("ALIYUN_VOICE_SHOW_NUMBER", ""),
            endpoint=env("ALIYUN_VOICE_ENDPOINT", "https://dyvmsapi.aliyuncs.com"),
        )

    def send(self, message: Outgoing) -> SendResult:
        params = {
            "CalledNumber": message.recipient,
            "TtsCode": message.template_code,
            "TtsParam": json.dumps(message.params, ensure_ascii=False),
            "PlayTimes": str(self.play_times),
            "OutId": message.idempotency_key[:256],
        }
        if self.show_number:
            params["CalledShowNumber"] = self.show_number
        body = self.rpc.call("SingleCallByTts", params)
        return SendResult(provider_message_id=str(body.get("CallId", "")))

    @staticmethod
    def parse_report(payload: Any) -> list[Receipt]:
        """The VoiceReport push: answered calls are delivered; a `dtmf` key is the acknowledgement."""
        if not isinstance(payload, list):
            raise ValueError("VoiceReport body must be a JSON array")
        receipts = []
        for item in payload:
            code = str(item.get("status_code", ""))
            answered = code in VOICE_ANSWERED or str(item.get("duration", "0")).strip() not in {"", "0"}
            receipts.append(
                Receipt(
                    provider_message_id=str(item.get("call_id", "")),
                    idempotency_key=str(item.get("out_id", "") or ""),
                    delivered=answered,
                    answer=str(item.get("dtmf", "") or "").strip(),
                    code=code,
                    detail=str(item.get("status_msg", "")),
                    at=_parse_time(item.get("end_time") or item.get("status_time")),
                )
            )
        return receipts
