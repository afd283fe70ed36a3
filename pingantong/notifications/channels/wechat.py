"""WeChat official-account template message (cgi-bin/message/template/send).

The access token is fetched with the app id and secret (WECHAT_APP_ID, WECHAT_APP_SECRET;
WECHAT_API_BASE overrides the base URL) and cached until shortly before it expires. The
recipient is the follower's openid; the delivery result arrives as the TEMPLATESENDJOBFINISH
event on the account's message URL.
"""

from __future__ import annotations

import time

import httpx

from .base import Outgoing, PermanentError, Receipt, SendResult, TransientError, env

TRANSIENT_ERRCODES = {-1, 45009, 45047}
TOKEN_ERRCODES = {40001, 40014, 42001}


class WechatChannel:
    name = "wechat"

    def __init__(
        self, *, app_id: str, app_secret: str, base: str = "https://api.weixin.qq.com", timeout: float = 10.0
    ) -> None:
        self.app_id, self.app_secret = app_id, app_secret
        self.base = base.rstrip("/")
        self.timeout = timeout
        self._token: tuple[str, float] | None = None

    @classmethod
    def from_env(cls) -> WechatChannel:
        return cls(
            app_id=env("WECHAT_APP_ID"),
            app_secret=env("WECHAT_APP_SECRET"),
            base=env("WECHAT_API_BASE", "https://api.weixin.qq.com"),
        )

    def _get(self, path: str, params: dict) -> dict:
        try:
            return httpx.get(f"{self.base}{path}", params=params, timeout=self.timeout).json()
        except httpx.TimeoutException as exc:
            raise TransientError("timeout", str(exc)) from exc
        except (httpx.TransportError, ValueError) as exc:
            raise TransientError("network", str(exc)) from exc

    def access_token(self) -> str:
        if self._token and self._token[1] > time.monotonic():
            return self._token[0]
        data = self._get(
            "/cgi-bin/token",
            {"grant_type": "client_credential", "appid": self.app_id, "secret": self.app_secret},
        )
        if "access_token" not in data:
            raise PermanentError(str(data.get("errcode", "token")), str(data.get("errmsg", "")))
        self._token = (data["access_token"], time.monotonic() + int(data.get("expires_in", 7200)) - 300)
        return self._token[0]

    def send(self, message: Outgoing) -> SendResult:
        from ..providers.http import json_of, post

        payload = {
            "touser": message.recipient,
            "template_id": message.template_code,
            "data": {key: {"value": str(value)} for key, value in message.params.items()},
        }
        response = post(
            f"{self.base}/cgi-bin/message/template/send",
            params={"access_token": self.access_token()},
            json=payload,
            timeout=self.timeout,
        )
        data = json_of(response)
        errcode = int(data.get("errcode", 0))
        if errcode in TOKEN_ERRCODES:
            self._token = None
        if errcode:
            cls = TransientError if errcode in TRANSIENT_ERRCODES | TOKEN_ERRCODES else PermanentError
            raise cls(str(errcode), str(data.get("errmsg", "")))
        return SendResult(provider_message_id=str(data.get("msgid", "")))

    @staticmethod
    def parse_event(fields: dict[str, str]) -> Receipt | None:
        """TEMPLATESENDJOBFINISH: Status is `success`, `failed:user block` or `failed: system failed`."""
        if fields.get("Event") != "TEMPLATESENDJOBFINISH":
            return None
        status = fields.get("Status", "")
        return Receipt(
            provider_message_id=fields.get("MsgID", ""), delivered=status == "success", code=status
        )
