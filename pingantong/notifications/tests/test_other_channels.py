"""The WeChat template-message and signed-webhook adapters against local servers, receipt polling,
and the after-commit signal the alarm centre's cascade can listen to."""

from __future__ import annotations

import json

import pytest

from pingantong.notifications import actions
from pingantong.notifications.channels import registry
from pingantong.notifications.channels.base import Outgoing, PermanentError, TransientError
from pingantong.notifications.channels.webhook import WebhookChannel, verify_signature
from pingantong.notifications.channels.wechat import WechatChannel
from pingantong.notifications.choices import ChannelKind, MessageStatus, Purpose
from pingantong.notifications.providers.tencent import TencentSms
from pingantong.notifications.receipts import poll_receipts
from pingantong.notifications.signals import message_changed

from .servers import LocalHttpServer, tencent_handler

MESSAGE = Outgoing(
    recipient="o6_bmjrPTlm6_2sgVt7hMZOPfL2M",
    template_code="tpl-1",
    params={"name": "张三"},
    text="张三发出紧急求助",
    idempotency_key="k-w",
)


def wechat_handler(path, headers, body):
    if path.startswith("/cgi-bin/token"):
        if "secret=right" not in path:
            return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}
        return 200, {"access_token": "ACCESS", "expires_in": 7200}
    if "access_token=ACCESS" not in path:
        return 200, {"errcode": 40001, "errmsg": "invalid credential"}
    data = json.loads(body)
    if data["touser"] == "busy":
        return 200, {"errcode": 45009, "errmsg": "reach max api daily quota limit"}
    assert data["data"] == {"name": {"value": "张三"}} and data["template_id"] == "tpl-1"
    return 200, {"errcode": 0, "errmsg": "ok", "msgid": 200228332}


def test_wechat_fetches_a_token_and_sends_the_template_message():
    with LocalHttpServer(wechat_handler) as server:
        channel = WechatChannel(app_id="wx1", app_secret="right", base=server.url)
        assert channel.send(MESSAGE).provider_message_id == "200228332"
        channel.send(MESSAGE)
        token_calls = [p for p, _h, _b in server.requests if p.startswith("/cgi-bin/token")]
        assert len(token_calls) == 1  # cached
        with pytest.raises(TransientError, match="45009"):
            channel.send(Outgoing(**{**MESSAGE.__dict__, "recipient": "busy"}))
        with pytest.raises(PermanentError, match="40125"):
            WechatChannel(app_id="wx1", app_secret="wrong", base=server.url).send(MESSAGE)
    receipt = WechatChannel.parse_event(
        {"Event": "TEMPLATESENDJOBFINISH", "MsgID": "200228332", "Status": "failed:user block"}
    )
    assert receipt is not None and receipt.delivered is False


def test_webhook_is_signed_so_the_receiver_can_verify_it():
    def receiver(path, headers, body):
        reason = verify_signature(
            secret="hook-secret",
            timestamp=headers["x-pingantong-timestamp"],
            body=body,
            signature=headers["x-pingantong-signature"],
        )
        if reason:
            return 401, {"error": reason}
        return (429, {}) if json.loads(body)["params"].get("name") == "slow" else (200, {})

    with LocalHttpServer(receiver) as server:
        target = Outgoing(**{**MESSAGE.__dict__, "recipient": f"{server.url}/hook"})
        assert WebhookChannel(secret="hook-secret").send(target).provider_message_id == "k-w"
        with pytest.raises(PermanentError, match="http_401"):
            WebhookChannel(secret="other").send(target)
        with pytest.raises(TransientError, match="429"):
            WebhookChannel(secret="hook-secret").send(
                Outgoing(**{**target.__dict__, "params": {"name": "slow"}})
            )


@pytest.mark.django_db
def test_tencent_status_pull_marks_messages_delivered(monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setenv("PINGANTONG_SMS_PROVIDER", "tencent")
    with LocalHttpServer(tencent_handler({"AKIDtest": "tc-secret"})) as server:
        adapter = TencentSms(
            secret_id="AKIDtest",
            secret_key="tc-secret",
            sdk_app_id="1400000001",
            sign_name="平安通",
            endpoint=server.url,
        )
        with registry.override(ChannelKind.SMS, adapter), django_capture_on_commit_callbacks(execute=True):
            message = actions.send_notification(
                recipient="13900000001",
                template="fraud_s14",
                params={"summary": "诈骗"},
                channel=ChannelKind.SMS,
                purpose=Purpose.FRAUD,
                idempotency_key="k-t",
            )
        message.refresh_from_db()
        assert message.status == MessageStatus.SENT
        with registry.override(ChannelKind.SMS, adapter):
            assert poll_receipts() == 1  # the server reports SessionContext k-t as delivered
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED


@pytest.mark.django_db
def test_acknowledgement_is_signalled_after_commit(django_capture_on_commit_callbacks):
    seen = []

    def listener(sender, message, status, **kwargs):
        seen.append((message.pk, status))

    message_changed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            message = actions.send_notification(
                recipient="13900000001",
                template="fraud_s14",
                params={"summary": "诈骗"},
                channel=ChannelKind.SMS,
                purpose=Purpose.FRAUD,
                idempotency_key="k-s",
            )
        with django_capture_on_commit_callbacks(execute=True):
            actions.acknowledge_message(message=message, answer="1")
    finally:
        message_changed.disconnect(listener)
    assert seen == [(message.pk, "delivered"), (message.pk, "acknowledged")]


@pytest.mark.django_db
def test_wechat_callback_checks_the_signature_and_applies_the_delivery_event(
    client, monkeypatch, django_capture_on_commit_callbacks
):
    import hashlib

    from django.urls import reverse

    monkeypatch.setenv("WECHAT_CALLBACK_TOKEN", "wx-token")
    query = {"timestamp": "1764300000", "nonce": "n1"}
    query["signature"] = hashlib.sha1("".join(sorted(["wx-token", "1764300000", "n1"])).encode()).hexdigest()
    url = reverse("notifications:hook-wechat")
    assert client.get(url, {**query, "echostr": "hello"}).content == b"hello"
    assert client.get(url, {**query, "signature": "0" * 40, "echostr": "x"}).status_code == 403
    with (
        registry.override(ChannelKind.WECHAT, _FixedId("200228332")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        message = actions.send_notification(
            recipient="o6_openid",
            template="fraud_s14",
            params={"summary": "诈骗"},
            channel=ChannelKind.WECHAT,
            purpose=Purpose.FRAUD,
            idempotency_key="wx-1",
        )
    event = (
        b"<xml><ToUserName>gh_1</ToUserName><FromUserName>o6_openid</FromUserName><MsgType>event</MsgType>"
        b"<Event>TEMPLATESENDJOBFINISH</Event><MsgID>200228332</MsgID><Status>success</Status></xml>"
    )
    response = client.post(
        f"{url}?timestamp=1764300000&nonce=n1&signature={query['signature']}", event, content_type="text/xml"
    )
    message.refresh_from_db()
    assert response.content == b"success" and message.status == MessageStatus.DELIVERED


class _FixedId:
    name = "wechat"

    def __init__(self, provider_id: str) -> None:
        self.provider_id = provider_id

    def send(self, message):
        from pingantong.notifications.channels.base import SendResult

        return SendResult(provider_message_id=self.provider_id)
