"""Click-to-call for agents: ring the agent's own phone, then connect it to the number (S01).

Configured by environment (read through settings with defaults, decision 0042):

- Asterisk AMI: `PINGANTONG_AMI_HOST`, `PINGANTONG_AMI_PORT` (5038), `PINGANTONG_AMI_USER`,
  `PINGANTONG_AMI_SECRET`, `PINGANTONG_AMI_CHANNEL` ("PJSIP/{extension}"), `PINGANTONG_AMI_CONTEXT`
  ("from-internal"). We send Login, then a synchronous-outcome Originate (`Async: true`, and wait
  for its `OriginateResponse` event), then Logoff.
- FreeSWITCH ESL: `PINGANTONG_ESL_HOST`, `PINGANTONG_ESL_PORT` (8021), `PINGANTONG_ESL_PASSWORD`,
  `PINGANTONG_ESL_ENDPOINT` ("user/{extension}"), `PINGANTONG_ESL_GATEWAY` ("sofia/gateway/pstn/").
  `bgapi originate` only queues the call, so the outcome is "placed" and the agent records the
  result by hand.

Without either, `get_dialer()` is None and the alarm screen offers `tel:` links; the agent records
every call's outcome either way, so the timeline is complete.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings

from .choices import CallResult

# Asterisk's OriginateResponse "Reason" codes (channel.h AST_CONTROL_*).
AMI_REASONS = {
    "0": CallResult.FAILED,
    "1": CallResult.NO_ANSWER,  # hung up before answer
    "3": CallResult.NO_ANSWER,  # ringing, timed out
    "4": CallResult.ANSWERED,
    "5": CallResult.BUSY,
    "8": CallResult.FAILED,  # congestion
}


@dataclass(frozen=True)
class CallOutcome:
    result: str  # CallResult value, or "placed" when the switch only queued the call
    detail: str = ""
    call_id: str = ""


class TelephonyError(Exception):
    """The switch could not be reached or refused us; the agent falls back to their phone."""


class Dialer(Protocol):
    name: str

    def originate(self, *, extension: str, number: str, alarm_id: int) -> CallOutcome: ...


def _setting(name: str, default: str = "") -> str:
    value = getattr(settings, name, None)
    return str(value) if value not in (None, "") else os.environ.get(name, default)


class _Lines:
    """Reads CRLF-terminated header blocks (AMI and ESL frame their messages this way)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def line(self) -> str:
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise TelephonyError("connection closed by the switch")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\n", 1)
        return raw.decode("utf-8", "replace").rstrip("\r")

    def block(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        while True:
            text = self.line()
            if not text:
                if headers:
                    return headers
                continue
            key, _sep, value = text.partition(":")
            headers[key.strip()] = value.strip()


class AmiDialer:
    """Asterisk Manager Interface over TCP."""

    name = "asterisk"

    def __init__(
        self,
        host: str,
        port: int,
        user: str,
        secret: str,
        *,
        channel: str = "PJSIP/{extension}",
        context: str = "from-internal",
        timeout: float = 45.0,
    ) -> None:
        self.host, self.port, self.user, self.secret = host, port, user, secret
        self.channel, self.context, self.timeout = channel, context, timeout

    @staticmethod
    def _send(sock: socket.socket, **headers: str) -> None:
        sock.sendall("".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode() + b"\r\n")

    def originate(self, *, extension: str, number: str, alarm_id: int) -> CallOutcome:
        try:
            with socket.create_connection((self.host, self.port), timeout=self.timeout) as sock:
                lines = _Lines(sock)
                lines.line()  # banner: "Asterisk Call Manager/x.y"
                self._send(
                    sock,
                    Action="Login",
                    ActionID="login",
                    Username=self.user,
                    Secret=self.secret,
                    Events="call",
                )
                reply = self._reply(lines, "login")
                if reply.get("Response") != "Success":
                    raise TelephonyError(f"AMI login refused: {reply.get('Message', '')}")
                action_id = f"alarm-{alarm_id}-{os.urandom(4).hex()}"
                self._send(
                    sock,
                    Action="Originate",
                    ActionID=action_id,
                    Channel=self.channel.format(extension=extension),
                    Context=self.context,
                    Exten=number,
                    Priority="1",
                    Timeout="30000",
                    CallerID=f"平安通 <{number}>",
                    Async="true",
                    Variable=f"PINGANTONG_ALARM={alarm_id}",
                )
                reply = self._reply(lines, action_id)
                if reply.get("Response") != "Success":
                    return CallOutcome(CallResult.FAILED, reply.get("Message", ""), action_id)
                while True:  # wait for this originate's outcome
                    event = lines.block()
                    if event.get("Event") == "OriginateResponse" and event.get("ActionID") == action_id:
                        break
                result = AMI_REASONS.get(event.get("Reason", ""), CallResult.FAILED)
                if event.get("Response") == "Success":
                    result = CallResult.ANSWERED
                self._send(sock, Action="Logoff", ActionID="logoff")
                return CallOutcome(
                    result, f"reason {event.get('Reason', '?')}", event.get("Uniqueid", action_id)
                )
        except (OSError, TimeoutError) as exc:
            raise TelephonyError(f"AMI unreachable: {exc}") from exc

    @staticmethod
    def _reply(lines: _Lines, action_id: str) -> dict[str, str]:
        while True:
            block = lines.block()
            if "Response" in block and block.get("ActionID") == action_id:
                return block


class EslDialer:
    """FreeSWITCH event socket (inbound): `bgapi originate` queues the call."""

    name = "freeswitch"

    def __init__(
        self,
        host: str,
        port: int,
        password: str,
        *,
        endpoint: str = "user/{extension}",
        gateway: str = "sofia/gateway/pstn/",
        timeout: float = 10.0,
    ) -> None:
        self.host, self.port, self.password = host, port, password
        self.endpoint, self.gateway, self.timeout = endpoint, gateway, timeout

    def originate(self, *, extension: str, number: str, alarm_id: int) -> CallOutcome:
        try:
            with socket.create_connection((self.host, self.port), timeout=self.timeout) as sock:
                lines = _Lines(sock)
                lines.block()  # Content-Type: auth/request
                sock.sendall(f"auth {self.password}\n\n".encode())
                if not lines.block().get("Reply-Text", "").startswith("+OK"):
                    raise TelephonyError("ESL authentication refused")
                leg = self.endpoint.format(extension=extension)
                cmd = (
                    f"bgapi originate {{pingantong_alarm={alarm_id},origination_caller_id_number={number}}}"
                    f"{leg} &bridge({self.gateway}{number})\n\n"
                )
                sock.sendall(cmd.encode())
                reply = lines.block().get("Reply-Text", "")
                if not reply.startswith("+OK"):
                    return CallOutcome(CallResult.FAILED, reply)
                return CallOutcome("placed", reply, reply.removeprefix("+OK Job-UUID:").strip())
        except (OSError, TimeoutError) as exc:
            raise TelephonyError(f"ESL unreachable: {exc}") from exc


def get_dialer() -> Dialer | None:
    """The configured switch, or None (then the screen offers tel: links)."""
    if host := _setting("PINGANTONG_AMI_HOST"):
        return AmiDialer(
            host,
            int(_setting("PINGANTONG_AMI_PORT", "5038")),
            _setting("PINGANTONG_AMI_USER"),
            _setting("PINGANTONG_AMI_SECRET"),
            channel=_setting("PINGANTONG_AMI_CHANNEL", "PJSIP/{extension}"),
            context=_setting("PINGANTONG_AMI_CONTEXT", "from-internal"),
        )
    if host := _setting("PINGANTONG_ESL_HOST"):
        return EslDialer(
            host,
            int(_setting("PINGANTONG_ESL_PORT", "8021")),
            _setting("PINGANTONG_ESL_PASSWORD", "ClueCon"),
            endpoint=_setting("PINGANTONG_ESL_ENDPOINT", "user/{extension}"),
            gateway=_setting("PINGANTONG_ESL_GATEWAY", "sofia/gateway/pstn/"),
        )
    return None
