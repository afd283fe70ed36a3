"""Generic signed webhook: a JSON POST to the recipient URL, signed so that the receiver can
check it came from us and is fresh.

Signature: `X-PingAnTong-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` with
`X-PingAnTong-Timestamp` (Unix seconds). The same scheme verifies the webhooks we receive
(fraud alerts, see `verify_signature`). Secret from PINGANTONG_WEBHOOK_SECRET.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from .base import Outgoing, PermanentError, SendResult, TransientError, env

SIGNATURE_HEADER = "X-PingAnTong-Signature"
TIMESTAMP_HEADER = "X-PingAnTong-Timestamp"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(
    *, secret: str, timestamp: str, body: bytes, signature: str, max_age: int = 300, now: float | None = None
) -> str | None:
    """None when valid, else the reason it is not."""
    if not secret:
        return "no webhook secret is configured"
    if not timestamp or not signature:
        return "signature or timestamp header missing"
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except ValueError:
        return "timestamp is not a number"
    if age > max_age:
        return "timestamp too old or in the future"
    if not hmac.compare_digest(sign(secret, timestamp, body), signature):
        return "signature does not match"
    return None


class WebhookChannel:
    name = "webhook"

    def __init__(self, *, secret: str, timeout: float = 10.0) -> None:
        self.secret = secret
        self.timeout = timeout

    @classmethod
    def from_env(cls) -> WebhookChannel:
        return cls(secret=env("PINGANTONG_WEBHOOK_SECRET"))

    def send(self, message: Outgoing) -> SendResult:
        from ..providers.http import post

        body = json.dumps(
            {
                "idempotency_key": message.idempotency_key,
                "template": message.template_code,
                "params": message.params,
                "text": message.text,
            },
            ensure_ascii=False,
        ).encode()
        timestamp = str(int(time.time()))
        response = post(
            message.recipient,
            content=body,
            timeout=self.timeout,
            headers={
                "Content-Type": "application/json",
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign(self.secret, timestamp, body),
                "Idempotency-Key": message.idempotency_key,
            },
        )
        if response.status_code == 429:
            raise TransientError("http_429", "receiver throttled")
        if response.status_code >= 300:
            raise PermanentError(f"http_{response.status_code}", response.text[:200])
        return SendResult(provider_message_id=response.headers.get("X-Message-Id", message.idempotency_key))
