"""A local server that behaves like the provincial platform as docs/sync.md specifies it: checks
the HMAC signature and timestamp, keeps records by idempotency key (a repeat is acknowledged as a
duplicate, not stored twice), can be put into an outage, can "lose" a record, and lists the ids it
holds per day for reconciliation."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

APP_ID = "pat-test"
SECRET = "province-shared-secret"


class PlatformState:
    def __init__(self) -> None:
        self.records: dict[str, dict] = {}
        self.outage = False
        self.requests = 0
        self.duplicates = 0
        self.lock = threading.Lock()


def make_handler(state: PlatformState):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            return

        def _answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _verified(self, body: bytes) -> bool:
            h = self.headers
            if h.get("X-App-Id") != APP_ID or abs(time.time() - int(h.get("X-Timestamp", "0"))) > 300:
                return False
            message = "\n".join(
                [
                    self.command,
                    urlparse(self.path).path,
                    h.get("X-Timestamp", ""),
                    h.get("X-Nonce", ""),
                    hashlib.sha256(body).hexdigest(),
                ]
            )
            expected = hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()
            return hmac.compare_digest(expected, h.get("X-Signature", ""))

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.requests += 1
            if state.outage:
                return self._answer(503, {"code": 503, "message": "maintenance"})
            if not self._verified(body):
                return self._answer(401, {"code": 401, "message": "bad signature"})
            record = json.loads(body)
            key = self.headers.get("X-Idempotency-Key", "")
            if key != record.get("id") or record.get("schema") != "pat.v1":
                return self._answer(400, {"code": 400, "message": "bad envelope"})
            with state.lock:
                if key in state.records:
                    state.duplicates += 1
                    return self._answer(
                        200, {"code": 0, "duplicate": True, "id": state.records[key]["remote_id"]}
                    )
                remote_id = f"FJ{len(state.records) + 1:08d}"
                state.records[key] = {"remote_id": remote_id, "record": record}
            return self._answer(200, {"code": 0, "id": remote_id})

        def do_GET(self) -> None:
            if state.outage:
                return self._answer(503, {"code": 503})
            if not self._verified(b""):
                return self._answer(401, {"code": 401})
            query = parse_qs(urlparse(self.path).query)
            region = query.get("region", [""])[0][:6]
            ids = [k for k, v in state.records.items() if v["record"]["region_code"].startswith(region)]
            return self._answer(200, {"code": 0, "ids": ids})

    return Handler


class PlatformServer:
    def __init__(self) -> None:
        self.state = PlatformState()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(self.state))
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> PlatformServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
