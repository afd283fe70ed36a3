"""Each provider adapter against a local server that speaks its protocol: success and receipt,
throttling, bad credentials, timeout; and a retried job that sends once."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import pytest

from pingantong.notifications import actions
from pingantong.notifications.channels import registry
from pingantong.notifications.channels.base import (
    ConfigurationError,
    Outgoing,
    PermanentError,
    TransientError,
)
from pingantong.notifications.choices import ChannelKind, MessageStatus, Purpose
from pingantong.notifications.providers.aliyun import AliyunSms, AliyunVoice
from pingantong.notifications.providers.smpp import SmppSms, run_coroutine
from pingantong.notifications.providers.tencent import TencentSms
from pingantong.notifications.tasks import deliver_message_task

from .servers import SLOW, THROTTLED, LocalHttpServer, LocalSmsc, aliyun_handler, tencent_handler

OK_NUMBER = "13900000001"


def outgoing(number=OK_NUMBER, key="k-1", code="SMS_100001"):
    return Outgoing(
        recipient=number,
        template_code=code,
        params={"name": "张三", "time": "10:00"},
        text="【平安通】张三于10:00发出紧急求助。",
        idempotency_key=key,
        param_order=("name", "time"),
    )


# --- Aliyun SMS -------------------------------------------------------------------------------------


@pytest.fixture
def aliyun_sms_server():
    with LocalHttpServer(aliyun_handler({"LTAIkey": "s3cret"}, "BizId")) as server:
        yield server


def aliyun_sms(server, key_id="LTAIkey", secret="s3cret", timeout=5.0):
    return AliyunSms(
        access_key_id=key_id,
        access_key_secret=secret,
        sign_name="平安通",
        endpoint=server.url,
        timeout=timeout,
    )


def test_aliyun_sms_signed_send_returns_biz_id_and_sends_template_params(aliyun_sms_server):
    result = aliyun_sms(aliyun_sms_server).send(outgoing())
    assert result.provider_message_id == "BizId-11"
    params = dict(parse_qsl(aliyun_sms_server.requests[0][2].decode()))
    assert params["Action"] == "SendSms" and params["TemplateCode"] == "SMS_100001"
    assert params["SignName"] == "平安通" and params["OutId"] == "k-1"
    assert json.loads(params["TemplateParam"]) == {"name": "张三", "time": "10:00"}


def test_aliyun_sms_throttling_is_transient(aliyun_sms_server):
    with pytest.raises(TransientError) as exc:
        aliyun_sms(aliyun_sms_server).send(outgoing(THROTTLED))
    assert exc.value.code == "isv.BUSINESS_LIMIT_CONTROL"


def test_aliyun_sms_wrong_secret_is_signature_does_not_match(aliyun_sms_server):
    with pytest.raises(PermanentError) as exc:
        aliyun_sms(aliyun_sms_server, secret="wrong").send(outgoing())
    assert exc.value.code == "SignatureDoesNotMatch"


def test_aliyun_sms_unknown_key_is_invalid_access_key(aliyun_sms_server):
    with pytest.raises(PermanentError) as exc:
        aliyun_sms(aliyun_sms_server, key_id="LTAInobody").send(outgoing())
    assert exc.value.code == "InvalidAccessKeyId.NotFound"


def test_aliyun_sms_timeout_is_transient(aliyun_sms_server):
    with pytest.raises(TransientError) as exc:
        aliyun_sms(aliyun_sms_server, timeout=0.3).send(outgoing(SLOW))
    assert exc.value.code == "timeout"


def test_aliyun_query_send_details_reads_delivery(aliyun_sms_server):
    receipts = aliyun_sms(aliyun_sms_server).query_send_details(
        phone=OK_NUMBER, biz_id="B1", send_date="20261128"
    )
    assert receipts[0].delivered is True and receipts[0].idempotency_key == "k-q"
    assert receipts[0].at.isoformat() == "2026-11-28T02:00:05+00:00"


def test_aliyun_sms_report_callback_parses_success_and_failure():
    receipts = AliyunSms.parse_report(
        [
            {
                "phone_number": OK_NUMBER,
                "success": True,
                "err_code": "DELIVERED",
                "biz_id": "B1",
                "out_id": "k-1",
                "report_time": "2026-11-28 10:00:00",
            },
            {
                "phone_number": OK_NUMBER,
                "success": False,
                "err_code": "MK:0001",
                "biz_id": "B2",
                "out_id": "k-2",
            },
        ]
    )
    assert [(r.provider_message_id, r.delivered, r.code) for r in receipts] == [
        ("B1", True, "DELIVERED"),
        ("B2", False, "MK:0001"),
    ]


# --- Aliyun voice -----------------------------------------------------------------------------------


def test_aliyun_voice_single_call_by_tts_and_keypress_report():
    with LocalHttpServer(aliyun_handler({"LTAIkey": "s3cret"}, "CallId")) as server:
        voice = AliyunVoice(
            access_key_id="LTAIkey",
            access_key_secret="s3cret",
            show_number="05981234567",
            endpoint=server.url,
        )
        result = voice.send(outgoing(code="TTS_200001"))
        params = dict(parse_qsl(server.requests[0][2].decode()))
        assert params["Action"] == "SingleCallByTts" and params["TtsCode"] == "TTS_200001"
        assert params["CalledNumber"] == OK_NUMBER and params["CalledShowNumber"] == "05981234567"
        assert json.loads(params["TtsParam"])["name"] == "张三"
        with pytest.raises(TransientError):
            voice.send(outgoing(THROTTLED))
    assert result.provider_message_id == "CallId-11"
    answered, unanswered = AliyunVoice.parse_report(
        [
            {
                "call_id": "CallId-11",
                "status_code": "200000",
                "dtmf": "1",
                "duration": "12",
                "out_id": "k-1",
                "end_time": "2026-11-28 10:01:00",
            },
            {"call_id": "CallId-12", "status_code": "200005", "duration": "0", "status_msg": "用户未接听"},
        ]
    )
    assert answered.delivered and answered.answer == "1"
    assert unanswered.delivered is False and unanswered.answer == ""


# --- Tencent ----------------------------------------------------------------------------------------


@pytest.fixture
def tencent_server():
    with LocalHttpServer(tencent_handler({"AKIDtest": "tc-secret"})) as server:
        yield server


def tencent(server, secret_id="AKIDtest", secret="tc-secret", timeout=5.0):
    return TencentSms(
        secret_id=secret_id,
        secret_key=secret,
        sdk_app_id="1400000001",
        sign_name="平安通",
        endpoint=server.url,
        timeout=timeout,
    )


def test_tencent_tc3_signed_send_with_positional_params(tencent_server):
    result = tencent(tencent_server).send(outgoing())
    assert result.provider_message_id == "2433:0001"
    _path, headers, body = tencent_server.requests[0]
    sent = json.loads(body)
    assert headers["x-tc-action"] == "SendSms" and headers["x-tc-version"] == "2021-01-11"
    assert sent["TemplateParamSet"] == ["张三", "10:00"] and sent["PhoneNumberSet"] == ["+8613900000001"]
    assert sent["SessionContext"] == "k-1"


def test_tencent_daily_limit_is_transient(tencent_server):
    with pytest.raises(TransientError) as exc:
        tencent(tencent_server).send(outgoing(THROTTLED))
    assert exc.value.code == "LimitExceeded.PhoneNumberDailyLimit"


def test_tencent_request_limit_is_transient(tencent_server):
    with pytest.raises(TransientError) as exc:
        tencent(tencent_server).send(outgoing("13800000429"))
    assert exc.value.code == "RequestLimitExceeded"


def test_tencent_bad_secret_is_signature_failure(tencent_server):
    with pytest.raises(PermanentError) as exc:
        tencent(tencent_server, secret="nope").send(outgoing())
    assert exc.value.code == "AuthFailure.SignatureFailure"


def test_tencent_timeout_is_transient(tencent_server):
    with pytest.raises(TransientError):
        tencent(tencent_server, timeout=0.3).send(outgoing(SLOW))


def test_tencent_pull_status_and_callback(tencent_server):
    pulled = tencent(tencent_server).pull_status()
    assert pulled[0].provider_message_id == "2433:1" and pulled[0].delivered
    callback = TencentSms.parse_callback(
        [
            {
                "sid": "2433:1",
                "report_status": "FAIL",
                "errmsg": "MK:0004",
                "user_receive_time": "2026-11-28 10:00:00",
            }
        ]
    )
    assert callback[0].delivered is False and callback[0].code == "MK:0004"


# --- SMPP -------------------------------------------------------------------------------------------


def smpp(smsc, password="secret", timeout=5.0, receipts=None):
    return SmppSms(
        host="127.0.0.1",
        port=smsc.port,
        system_id="pat",
        password=password,
        source_addr="PAT",
        timeout=timeout,
        receipt_wait=0.2 if receipts is not None else 0,
        on_receipt=receipts.append if receipts is not None else None,
    )


def test_smpp_submit_in_ucs2_with_receipt_requested_and_delivery_receipt():
    receipts: list = []
    with LocalSmsc() as smsc:
        result = smpp(smsc, receipts=receipts).send(outgoing())
        assert smsc.submitted == [("8613900000001", "【平安通】张三于10:00发出紧急求助。", 1)]
        assert smsc.receipt_acks == 1  # deliver_sm was answered
    assert result.provider_message_id == "m1"
    assert receipts[0].provider_message_id == "m1" and receipts[0].delivered is True


def test_smpp_long_chinese_text_goes_in_message_payload():
    long_text = "请注意防范诈骗" * 20
    with LocalSmsc() as smsc:
        smpp(smsc).send(
            Outgoing(recipient=OK_NUMBER, template_code="x", params={}, text=long_text, idempotency_key="k")
        )
        assert smsc.submitted[0][1] == long_text


def test_smpp_throttled_is_transient():
    with LocalSmsc() as smsc, pytest.raises(TransientError) as exc:
        smpp(smsc).send(outgoing(THROTTLED))
    assert exc.value.code == "ESME_RTHROTTLED"


def test_smpp_bind_with_wrong_password_is_permanent():
    with LocalSmsc() as smsc, pytest.raises(PermanentError) as exc:
        smpp(smsc, password="bad").send(outgoing())
    assert exc.value.code == "ESME_RINVPASWD"


def test_smpp_timeout_is_transient():
    with LocalSmsc() as smsc, pytest.raises(TransientError) as exc:
        smpp(smsc, timeout=0.3).send(outgoing(SLOW))
    assert exc.value.code == "timeout"


def test_smpp_unreachable_gateway_is_transient():
    with pytest.raises(TransientError):
        SmppSms(host="127.0.0.1", port=1, system_id="a", password="b", source_addr="c", timeout=0.5).send(
            outgoing()
        )


# --- through the sending machinery ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("provider", ["aliyun", "tencent", "smpp"])
def test_a_retried_send_job_calls_the_real_provider_once(provider, django_capture_on_commit_callbacks):
    with (
        LocalHttpServer(aliyun_handler({"LTAIkey": "s3cret"}, "BizId")) as ali,
        LocalHttpServer(tencent_handler({"AKIDtest": "tc-secret"})) as tc,
        LocalSmsc() as smsc,
    ):
        adapter = {"aliyun": aliyun_sms(ali), "tencent": tencent(tc), "smpp": smpp(smsc)}[provider]
        with registry.override(ChannelKind.SMS, adapter), django_capture_on_commit_callbacks(execute=True):
            message = actions.send_notification(
                recipient=OK_NUMBER,
                template="fraud_s14",
                params={"summary": "冒充公检法的诈骗电话"},
                channel=ChannelKind.SMS,
                purpose=Purpose.FRAUD,
                idempotency_key=f"retry-{provider}",
            )
        deliver_message_task(message.pk)
        deliver_message_task(message.pk)
        calls = {"aliyun": len(ali.requests), "tencent": len(tc.requests), "smpp": len(smsc.submitted)}
    message.refresh_from_db()
    assert calls[provider] == 1 and message.status == MessageStatus.SENT and message.provider_message_id


def test_missing_credentials_are_a_configuration_error(monkeypatch):
    monkeypatch.delenv("ALIYUN_ACCESS_KEY_ID", raising=False)
    with pytest.raises(ConfigurationError, match="ALIYUN_ACCESS_KEY_ID"):
        AliyunSms.from_env()


def test_smpp_receiver_session_collects_receipts_and_keeps_the_link_alive():
    import asyncio

    receipts: list = []
    with LocalSmsc() as smsc:
        smsc.pending_receipts = ["m41"]
        adapter = smpp(smsc, receipts=receipts)

        async def run() -> None:
            stop = asyncio.Event()
            task = asyncio.create_task(adapter.listen(stop, enquire_every=0.05))
            for _ in range(100):
                if receipts and smsc.enquire_links:
                    break
                await asyncio.sleep(0.02)
            stop.set()
            await asyncio.wait_for(task, 5)

        run_coroutine(run)  # asyncio.run, also when a browser test left a loop running in this thread
        assert smsc.enquire_links >= 1 and smsc.receipt_acks == 1
    assert receipts[0].provider_message_id == "m41" and receipts[0].delivered is True
