"""Click-to-call against a local fake Asterisk that speaks AMI (Login, Originate, OriginateResponse)."""

from __future__ import annotations

import socketserver
import threading

import pytest

from pingantong.alarms import actions
from pingantong.alarms.telephony import AmiDialer, EslDialer, get_dialer


class FakeAmi(socketserver.StreamRequestHandler):
    reason = "4"
    secret = "s3cret"
    seen: list[dict[str, str]] = []

    def _block(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        while True:
            line = self.rfile.readline().decode().rstrip("\r\n")
            if not line:
                if headers:
                    return headers
                continue
            key, _, value = line.partition(":")
            headers[key.strip()] = value.strip()

    def _send(self, **headers: str) -> None:
        self.wfile.write("".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode() + b"\r\n")

    def handle(self) -> None:
        self.wfile.write(b"Asterisk Call Manager/5.0.2\r\n")
        while True:
            try:
                action = self._block()
            except (ConnectionError, OSError):
                return
            FakeAmi.seen.append(action)
            aid = action.get("ActionID", "")
            if action.get("Action") == "Login":
                if action.get("Secret") == self.secret:
                    self._send(Response="Success", ActionID=aid, Message="Authentication accepted")
                else:
                    self._send(Response="Error", ActionID=aid, Message="Authentication failed")
            elif action.get("Action") == "Originate":
                self._send(Response="Success", ActionID=aid, Message="Originate successfully queued")
                self._send(Event="Newchannel", Channel=action["Channel"])  # noise to skip
                ok = "Success" if self.reason == "4" else "Failure"
                self._send(
                    Event="OriginateResponse",
                    ActionID=aid,
                    Response=ok,
                    Channel=action["Channel"],
                    Reason=self.reason,
                    Uniqueid="1732800000.42",
                )
            elif action.get("Action") == "Logoff":
                self._send(Response="Goodbye", ActionID=aid)
                return


@pytest.fixture
def fake_ami():
    FakeAmi.seen = []
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), FakeAmi)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_ami_originate_answered(fake_ami):
    dialer = AmiDialer("127.0.0.1", fake_ami.server_address[1], "pingantong", "s3cret", timeout=5)
    outcome = dialer.originate(extension="8001", number="13700000001", alarm_id=9)
    assert outcome.result == "answered" and outcome.call_id == "1732800000.42"
    originate = next(a for a in FakeAmi.seen if a.get("Action") == "Originate")
    assert originate["Channel"] == "PJSIP/8001" and originate["Exten"] == "13700000001"
    assert originate["Variable"] == "PINGANTONG_ALARM=9"


def test_ami_busy_and_bad_login(fake_ami):
    FakeAmi.reason = "5"
    try:
        dialer = AmiDialer("127.0.0.1", fake_ami.server_address[1], "pingantong", "s3cret", timeout=5)
        assert dialer.originate(extension="8001", number="1", alarm_id=1).result == "busy"
    finally:
        FakeAmi.reason = "4"
    from pingantong.alarms.telephony import TelephonyError

    with pytest.raises(TelephonyError, match="refused"):
        AmiDialer("127.0.0.1", fake_ami.server_address[1], "x", "wrong", timeout=5).originate(
            extension="1", number="2", alarm_id=1
        )


@pytest.mark.django_db
def test_place_call_records_call_and_outcome_on_timeline(fake_ami, settings, elder, agent):
    settings.PINGANTONG_AMI_HOST = "127.0.0.1"
    settings.PINGANTONG_AMI_PORT = fake_ami.server_address[1]
    settings.PINGANTONG_AMI_USER, settings.PINGANTONG_AMI_SECRET = "pingantong", "s3cret"
    assert isinstance(get_dialer(), AmiDialer)
    alarm = actions.raise_alarm(alarm_type="sos", client=elder)
    step = actions.place_call(alarm_id=alarm.pk, user=agent, number=elder.phone, whom=elder.name)
    assert step.kind == "call_result" and step.data["result"] == "answered"
    assert list(alarm.steps.values_list("kind", flat=True))[-2:] == ["call_placed", "call_result"]


@pytest.mark.django_db
def test_unreachable_switch_records_failed_call(settings, elder, agent):
    settings.PINGANTONG_AMI_HOST, settings.PINGANTONG_AMI_PORT = "127.0.0.1", 9  # discard port: refused
    alarm = actions.raise_alarm(alarm_type="sos", client=elder)
    step = actions.place_call(alarm_id=alarm.pk, user=agent, number="110")
    assert step.data["result"] == "failed" and "unreachable" in step.data["detail"]


def test_without_switch_there_is_no_dialer(settings):
    settings.PINGANTONG_AMI_HOST = ""
    settings.PINGANTONG_ESL_HOST = ""
    assert get_dialer() is None


class FakeEsl(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        self.wfile.write(b"Content-Type: auth/request\n\n")
        assert self.rfile.readline().startswith(b"auth ClueCon")
        self.rfile.readline()
        self.wfile.write(b"Content-Type: command/reply\nReply-Text: +OK accepted\n\n")
        line = self.rfile.readline()
        self.rfile.readline()
        assert line.startswith(b"bgapi originate")
        self.wfile.write(b"Content-Type: command/reply\nReply-Text: +OK Job-UUID: abc-123\n\n")


def test_esl_bgapi_originate_is_placed():
    server = socketserver.TCPServer(("127.0.0.1", 0), FakeEsl)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    try:
        outcome = EslDialer("127.0.0.1", server.server_address[1], "ClueCon", timeout=5).originate(
            extension="1001", number="13700000001", alarm_id=3
        )
    finally:
        thread.join(5)
        server.server_close()
    assert outcome.result == "placed" and outcome.call_id == "abc-123"
