"""Local protocol servers for the provider adapters' tests (127.0.0.1, ephemeral ports).

Each one implements the provider's behaviour independently of the adapter's code: it checks the
signature from scratch, answers success with a receipt id, and returns the provider's real error
codes for throttling and bad credentials; a chosen number makes it hang (timeout tests).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import struct
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote

THROTTLED = "13800000058"
SLOW = "13800000000"

Handler = Callable[[str, dict[str, str], bytes], tuple[int, dict]]


class LocalHttpServer:
    def __init__(self, handle: Handler) -> None:
        self.handle = handle
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        outer = self

        class RequestHandler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                outer.requests.append((self.path, headers, body))
                status, payload = outer.handle(self.path, headers, body)
                data = json.dumps(payload, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_POST = _serve
            do_GET = _serve

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LocalHttpServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- Aliyun RPC (dysmsapi / dyvmsapi) -------------------------------------------------------------


def aliyun_handler(secrets: dict[str, str], result_key: str) -> Handler:
    """Check the v1 signature from scratch, then behave like SendSms / SingleCallByTts."""

    def enc(value: str) -> str:
        return quote(value, safe="-_.~")

    def handle(path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict]:
        params = dict(parse_qsl(body.decode(), keep_blank_values=True))
        key_id = params.get("AccessKeyId", "")
        if key_id not in secrets:
            return 404, {
                "Code": "InvalidAccessKeyId.NotFound",
                "Message": "Specified access key is not found.",
            }
        given = params.pop("Signature", "")
        query = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(params.items()))
        to_sign = "POST&%2F&" + enc(query)
        expected = base64.b64encode(
            hmac.new((secrets[key_id] + "&").encode(), to_sign.encode(), hashlib.sha1).digest()
        ).decode()
        if given != expected:
            return 400, {"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched."}
        for required in ("SignatureNonce", "Timestamp", "Action", "Version"):
            if not params.get(required):
                return 400, {"Code": "MissingParameter", "Message": required}
        number = params.get("PhoneNumbers") or params.get("CalledNumber") or params.get("PhoneNumber") or ""
        if number == THROTTLED:
            return 200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发小时级流控Permits:5"}
        if number == SLOW:
            time.sleep(1.5)
        if params["Action"] == "QuerySendDetails":
            return 200, {
                "Code": "OK",
                "SmsSendDetailDTOs": {
                    "SmsSendDetailDTO": [
                        {
                            "SendStatus": 3,
                            "ErrCode": "DELIVERED",
                            "ReceiveDate": "2026-11-28 10:00:05",
                            "OutId": "k-q",
                            "PhoneNum": number,
                        }
                    ]
                },
            }
        json.loads(params.get("TemplateParam") or params.get("TtsParam") or "{}")
        return 200, {
            "Code": "OK",
            "Message": "OK",
            "RequestId": "r-1",
            result_key: f"{result_key}-{len(number)}",
        }

    return handle


# --- Tencent Cloud TC3 ------------------------------------------------------------------------------


def tencent_handler(secrets: dict[str, str]) -> Handler:
    def sha(text: bytes) -> str:
        return hashlib.sha256(text).hexdigest()

    def mac(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    def error(code: str, message: str) -> tuple[int, dict]:
        return 200, {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": "r-err"}}

    def handle(path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict]:
        auth = headers.get("authorization", "")
        try:
            _algorithm, rest = auth.split(" ", 1)
            parts = dict(item.strip().split("=", 1) for item in rest.split(","))
            secret_id, date, service, _ = parts["Credential"].split("/")
        except ValueError:
            return error("AuthFailure.SignatureFailure", "malformed Authorization")
        if secret_id not in secrets:
            return error("AuthFailure.SecretIdNotFound", "The SecretId is not found")
        signed = parts["SignedHeaders"].split(";")
        canonical_headers = "".join(
            f"{h}:{headers[h].strip().lower() if h == 'content-type' else headers[h]}\n" for h in signed
        )
        canonical = f"POST\n/\n\n{canonical_headers}\n{parts['SignedHeaders']}\n{sha(body)}"
        to_sign = f"TC3-HMAC-SHA256\n{headers['x-tc-timestamp']}\n{date}/{service}/tc3_request\n{sha(canonical.encode())}"
        key = mac(mac(mac(("TC3" + secrets[secret_id]).encode(), date), service), "tc3_request")
        if hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest() != parts["Signature"]:
            return error("AuthFailure.SignatureFailure", "The provided credentials could not be validated.")
        if abs(time.time() - int(headers["x-tc-timestamp"])) > 300:
            return error("AuthFailure.SignatureExpire", "expired")
        data = json.loads(body)
        action = headers.get("x-tc-action")
        if action == "PullSmsSendStatus":
            return 200, {
                "Response": {
                    "PullSmsSendStatusSet": [
                        {
                            "SerialNo": "2433:1",
                            "ReportStatus": "SUCCESS",
                            "Description": "用户短信送达成功",
                            "UserReceiveTime": 1764300000,
                            "SessionContext": "k-t",
                            "PhoneNumber": "+8613900000001",
                        }
                    ],
                    "RequestId": "r-2",
                }
            }
        phone = data["PhoneNumberSet"][0]
        if phone == "+86" + THROTTLED:
            return 200, {
                "Response": {
                    "SendStatusSet": [
                        {
                            "SerialNo": "",
                            "PhoneNumber": phone,
                            "Fee": 0,
                            "Code": "LimitExceeded.PhoneNumberDailyLimit",
                            "Message": "the number of sms messages sent from a single mobile number every day exceeds the upper limit",
                        }
                    ],
                    "RequestId": "r-3",
                }
            }
        if phone == "+86" + SLOW:
            time.sleep(1.5)
        if phone == "+8613800000429":
            return error("RequestLimitExceeded", "请求的次数超过了频率限制")
        return 200, {
            "Response": {
                "SendStatusSet": [
                    {
                        "SerialNo": "2433:" + phone[-4:],
                        "PhoneNumber": phone,
                        "Fee": 1,
                        "SessionContext": data.get("SessionContext", ""),
                        "Code": "Ok",
                        "Message": "send success",
                        "IsoCode": "CN",
                    }
                ],
                "RequestId": "r-4",
                "_echo": data,
            }
        }

    return handle


# --- SMPP 3.4 SMSC --------------------------------------------------------------------------------


def _receipt_body(destination: str, message_id: str) -> bytes:
    text = (
        f"id:{message_id} sub:001 dlvrd:001 submit date:2611281000 "
        f"done date:2611281001 stat:DELIVRD err:000 text:"
    ).encode()
    return (
        b"\x00"
        + b"\x01\x01"
        + destination.encode()
        + b"\x00"
        + b"\x05\x00PAT\x00"
        + bytes([0x04, 0, 0])
        + b"\x00\x00"
        + bytes([0, 0, 0, 0, len(text)])
        + text
    )


def _cstring(body: bytes, pos: int) -> tuple[str, int]:
    end = body.index(b"\x00", pos)
    return body[pos:end].decode(), end + 1


def _parse_submit(body: bytes) -> tuple[str, int, str]:
    """destination, registered_delivery and the UCS-2 text of a submit_sm body."""
    _service, pos = _cstring(body, 0)
    _source, pos = _cstring(body, pos + 2)
    destination, pos = _cstring(body, pos + 2)
    pos += 3  # esm_class, protocol_id, priority_flag
    _schedule, pos = _cstring(body, pos)
    _validity, pos = _cstring(body, pos)
    registered_delivery, data_coding, sm_length = body[pos], body[pos + 2], body[pos + 4]
    raw = body[pos + 5 : pos + 5 + sm_length]
    if not sm_length:  # message_payload TLV
        tag, length = struct.unpack_from(">HH", body, pos + 5)
        raw = body[pos + 9 : pos + 9 + length] if tag == 0x0424 else b""
    assert data_coding == 0x08
    return destination, registered_delivery, raw.decode("utf-16-be")


class LocalSmsc:
    """A small SMSC: bind_transceiver with a password check, submit_sm → submit_sm_resp and then a
    deliver_sm delivery receipt, ESME_RTHROTTLED for one number, silence for another."""

    def __init__(self, system_id: str = "pat", password: str = "secret") -> None:
        self.system_id, self.password = system_id, password
        self.submitted: list[tuple[str, str, int]] = []
        self.receipt_acks = 0
        self.enquire_links = 0
        self.pending_receipts: list[str] = []  # pushed to a receiver session right after it binds
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._session, "127.0.0.1", 0))
        self.server = server
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self.loop.run_forever()

    def __enter__(self) -> LocalSmsc:
        self.thread.start()
        self._ready.wait(5)
        return self

    def __exit__(self, *exc) -> None:
        async def shutdown() -> None:
            self.server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        bound = False
        seq = 1000
        try:
            while True:
                header = await reader.readexactly(16)
                length, command_id, _status, sequence = struct.unpack(">IIII", header)
                body = await reader.readexactly(length - 16)

                def send(cid: int, status: int, sq: int, payload: bytes = b"") -> None:
                    writer.write(struct.pack(">IIII", 16 + len(payload), cid, status, sq) + payload)

                if command_id in (0x00000009, 0x00000001):  # bind_transceiver, bind_receiver
                    system_id, password = body.split(b"\x00")[:2]
                    ok = system_id.decode() == self.system_id and password.decode() == self.password
                    send(command_id | 0x80000000, 0 if ok else 0x0E, sequence, b"SMSC\x00")
                    bound = ok
                    while ok and command_id == 0x00000001 and self.pending_receipts:
                        seq += 1
                        send(0x00000005, 0, seq, _receipt_body("8613900000001", self.pending_receipts.pop(0)))
                elif not bound:
                    send(command_id | 0x80000000, 0x04, sequence)  # ESME_RINVBNDSTS
                elif command_id == 0x00000004:  # submit_sm
                    destination, registered_delivery, text_sent = _parse_submit(body)
                    if destination.endswith(THROTTLED):
                        send(0x80000004, 0x58, sequence)
                    elif destination.endswith(SLOW):
                        await asyncio.sleep(1)
                    else:
                        message_id = f"m{len(self.submitted) + 1}"
                        self.submitted.append((destination, text_sent, registered_delivery))
                        send(0x80000004, 0, sequence, message_id.encode() + b"\x00")
                        text = (
                            f"id:{message_id} sub:001 dlvrd:001 submit date:2611281000 "
                            f"done date:2611281001 stat:DELIVRD err:000 text:"
                        ).encode()
                        seq += 1
                        receipt = (
                            b"\x00"
                            + b"\x01\x01"
                            + destination.encode()
                            + b"\x00"
                            + b"\x05\x00PAT\x00"
                            + bytes([0x04, 0, 0])
                            + b"\x00\x00"
                            + bytes([0, 0, 0, 0, len(text)])
                            + text
                        )
                        send(0x00000005, 0, seq, receipt)
                elif command_id == 0x80000005:
                    self.receipt_acks += 1
                elif command_id == 0x00000015:
                    self.enquire_links += 1
                    send(0x80000015, 0, sequence)
                elif command_id == 0x00000006:
                    send(0x80000006, 0, sequence)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
