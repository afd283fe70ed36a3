"""HTTPS adapter for the 福建省养老信息服务平台 (I2), whose interface is not public.

The contract we implement is documented in docs/sync.md (schema `pat.v1`):
- `POST {base}/v1/records` with the JSON envelope; headers `X-App-Id`, `X-Timestamp` (Unix s),
  `X-Nonce`, `X-Idempotency-Key` and `X-Signature` = hex HMAC-SHA256 of
  `METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nsha256(body)` with the shared secret.
  `200 {"code": 0, "id": "<platform id>"}` accepted; `200 {"code": 0, "duplicate": true, ...}` when the
  idempotency key was seen before (success, nothing created); 5xx or a timeout: retry later;
  other 4xx: permanent (dead letter).
- `GET {base}/v1/records?date=YYYY-MM-DD&region=CODE` → `{"ids": [idempotency keys]}` for reconciliation.
Credentials come only from the environment: PINGANTONG_PROVINCE_URL, _APP_ID, _SECRET.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlparse

import httpx


class DeliveryError(Exception):
    """Delivery failed; `retryable` says whether trying again later can help."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def sign(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = "\n".join([method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest()])
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


@dataclass
class ProvincialAdapter:
    base_url: str
    app_id: str
    secret: str
    timeout_s: float = 10.0

    @classmethod
    def from_environment(cls) -> ProvincialAdapter | None:
        url = os.environ.get("PINGANTONG_PROVINCE_URL", "").strip()
        if not url:
            return None
        return cls(
            url.rstrip("/"),
            os.environ.get("PINGANTONG_PROVINCE_APP_ID", ""),
            os.environ.get("PINGANTONG_PROVINCE_SECRET", ""),
        )

    def _headers(self, method: str, url: str, body: bytes, idempotency_key: str = "") -> dict[str, str]:
        timestamp = str(int(time.time()))
        nonce = secrets.token_hex(8)
        path = urlparse(url).path
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-App-Id": self.app_id,
            "X-Timestamp": timestamp,
            "X-Nonce": nonce,
            "X-Signature": sign(self.secret, method, path, timestamp, nonce, body),
        }
        if idempotency_key:
            headers["X-Idempotency-Key"] = idempotency_key
        return headers

    def deliver(self, envelope: dict) -> str:
        """Send one record; return the platform's id. Raises DeliveryError."""
        url = f"{self.base_url}/v1/records"
        body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            response = httpx.post(
                url,
                content=body,
                headers=self._headers("POST", url, body, envelope["id"]),
                timeout=self.timeout_s,
            )
        except httpx.HTTPError as exc:
            raise DeliveryError(f"network: {type(exc).__name__}: {exc}", retryable=True) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise DeliveryError(f"HTTP {response.status_code}: {response.text[:200]}", retryable=True)
        if response.status_code >= 400:
            raise DeliveryError(f"HTTP {response.status_code}: {response.text[:200]}", retryable=False)
        try:
            data = response.json()
        except ValueError as exc:
            raise DeliveryError(f"unreadable answer: {response.text[:200]}", retryable=True) from exc
        if data.get("code") != 0:
            raise DeliveryError(f"refused: {data}", retryable=False)
        return str(data.get("id", ""))

    def acknowledged_ids(self, *, day: date, region_code: str) -> set[str]:
        url = f"{self.base_url}/v1/records"
        try:
            response = httpx.get(
                url,
                params={"date": day.isoformat(), "region": region_code},
                headers=self._headers("GET", url, b""),
                timeout=self.timeout_s,
            )
            response.raise_for_status()
            return {str(i) for i in response.json().get("ids", [])}
        except (httpx.HTTPError, ValueError) as exc:
            raise DeliveryError(f"reconciliation query failed: {exc}", retryable=True) from exc
