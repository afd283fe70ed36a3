"""Scaled mode, end to end, as separate processes on PostgreSQL and Redis (issue 10, item 4).

Two gateway processes, one worker and one web server are started exactly as the systemd units do
(`python -m pingantong.cli run --only gateway|worker|web`), on a fresh PostgreSQL database and a
Redis database of their own. Then:

* an SOS sent by a watch to gateway 1 reaches an agent's alarm console: a websocket connected to
  the *web* process (logged in with a session cookie through the real login form) receives the
  alarm, and `GET /api/v1/alarms/?status=open` lists it with the device;
* a command issued on the web (`POST /api/v1/devices/<id>/commands/`) reaches a JT/T 808 terminal
  connected to gateway 2 (a raw TCP client playing the terminal receives the 0x8201 downlink).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.cookiejar
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pingantong.demo.simulator import frames
from pingantong.demo.simulator.frames import Fix
from pingantong.testing.network import free_port
from pingantong.testing.scratch_postgres import scratch_postgres
from pingantong.testing.services import require_service

pytestmark = pytest.mark.timeout(300)

DB_NAME = "pingantong_scaled_test"
REDIS_DB = 13
PASSWORD = "Scaled-Test-Password-1"
WATCH_ID = "3504099001"
PENDANT_ID = "144040499002"
HOME = Fix(latitude=26.2634, longitude=117.6390, satellites=8)

SETUP = f"""
import json
from rest_framework.authtoken.models import Token
from pingantong.accounts.models import RoleAssignment, User
from pingantong.devices.actions import register_device
agent = User.objects.create_user(username="agent-scaled", password={PASSWORD!r}, display_name="坐席")
RoleAssignment.objects.create(user=agent, role="agent", region_id="350404000000")
User.objects.create_superuser(username="admin", password={PASSWORD!r})  # first-run setup: done
watch = register_device(protocol="watch", identity={WATCH_ID!r}, device_type="watch")
pendant = register_device(protocol="jt808", identity={PENDANT_ID!r}, device_type="pendant")
print(json.dumps({{"token": Token.objects.create(user=agent).key, "watch": watch.pk, "pendant": pendant.pk}}))
"""


def _wait_port(port: int, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"process exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.3)
    raise AssertionError(f"port {port} never opened:\n{log.read_text()[-3000:]}")


@pytest.fixture
def scaled_env(tmp_path):
    redis_url = urllib.parse.urlparse(require_service("redis"))
    redis = f"redis://{redis_url.hostname}:{redis_url.port or 6379}/{REDIS_DB}"
    import redis as redis_lib

    redis_lib.Redis.from_url(redis).flushdb()
    var = tmp_path / "var"
    var.mkdir()
    (var / "secret_key").write_text("scaled-mode-test-secret-" + "x" * 40)  # one key for all processes
    with scratch_postgres(DB_NAME, var) as db:
        env = {
            **db.env,
            "DJANGO_SETTINGS_MODULE": "pingantong.settings.local",
            "REDIS_URL": redis,
            "PINGANTONG_MQTT_PORT": "0",
            "PINGANTONG_LOG_LEVEL": "INFO",
        }
        yield env, tmp_path


class Processes:
    def __init__(self, env: dict, folder: Path) -> None:
        self.env, self.folder, self.procs = env, folder, []

    def manage(self, *args: str, timeout: float = 180) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "pingantong.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def start(self, name: str, *args: str, **env: str) -> tuple[subprocess.Popen, Path]:
        log = self.folder / f"{name}.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "pingantong.cli", "run", "--no-migrate", *args],
            env={**self.env, **env},
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc, log

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)  # the group we started (its worker child too)
                proc.wait(timeout=5)


def _login_cookie(base: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base}/login/", timeout=20).read()
    csrf = next(c.value for c in jar if c.name == "csrftoken")
    form = urllib.parse.urlencode(
        {"username": "agent-scaled", "password": PASSWORD, "csrfmiddlewaretoken": csrf}
    ).encode()
    opener.open(urllib.request.Request(f"{base}/login/", data=form, headers={"Referer": base}), timeout=20)
    session = next((c.value for c in jar if c.name == "sessionid"), None)
    assert session, "the login form did not log the agent in"
    return f"sessionid={session}; csrftoken={csrf}"


def _api(base: str, token: str, path: str, body: dict | None = None) -> tuple[int, object]:
    request = urllib.request.Request(
        f"{base}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        method="POST" if body is not None else "GET",
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        return response.status, json.loads(response.read())


def _reply(sock: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"]"):
        chunk = sock.recv(256)
        if not chunk:
            raise ConnectionError("closed by the gateway")
        data += chunk
    return data


def _send_sos(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=15) as watch:
        watch.sendall(frames.watch_lk(WATCH_ID, battery=80))
        assert _reply(watch).startswith(f"[3G*{WATCH_ID}*".encode())  # stored and acknowledged
        sos = frames.watch_position(
            WATCH_ID, datetime.now(UTC), HOME, kind="AL", status=frames.WATCH_SOS, battery=80
        )
        watch.sendall(sos)
        assert _reply(watch).endswith(b"*AL]")  # the SOS is stored (ack after commit)


class Pendant:
    """A JT/T 808 terminal on a raw socket: registers, authenticates, then waits for downlinks."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buffer = b""
        self.sock.sendall(frames.jt808_register(PENDANT_ID, 1))
        message_id, body = self.read()
        assert message_id == 0x8100 and body[2] == 0, (hex(message_id), body)
        self.sock.sendall(frames.jt808_auth(PENDANT_ID, 2, body[3:].decode("ascii", "replace")))
        assert self.read()[0] == 0x8001
        self.sock.sendall(frames.jt808_location(PENDANT_ID, 3, datetime.now(UTC), HOME))
        assert self.read()[0] == 0x8001

    def read(self, timeout: float = 15) -> tuple[int, bytes]:
        self.sock.settimeout(timeout)
        while self.buffer.count(b"\x7e") < 2:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed by the gateway")
            self.buffer += chunk
        start = self.buffer.index(b"\x7e")
        end = self.buffer.index(b"\x7e", start + 1) + 1
        frame, self.buffer = self.buffer[start:end], self.buffer[end:]
        return frames.parse_jt808_reply(frame)

    def close(self) -> None:
        self.sock.close()


async def _console_receives_alarm(ws_url: str, cookie: str, origin: str, trigger, timeout: float) -> dict:
    from websockets.asyncio.client import connect

    async with connect(ws_url, additional_headers={"Cookie": cookie}, origin=origin) as ws:  # type: ignore[arg-type]
        hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert hello["type"] == "hello", hello
        await asyncio.get_running_loop().run_in_executor(None, trigger)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            message = json.loads(await asyncio.wait_for(ws.recv(), max(remaining, 0.1)))
            if message.get("type") == "alarm":
                return message


def test_sos_on_gateway_1_reaches_the_web_console_and_a_web_command_reaches_gateway_2(scaled_env):
    env, folder = scaled_env
    run = Processes(env, folder)
    run.manage("migrate", "--no-input", "-v0", timeout=240)
    ids = json.loads(run.manage("shell", "-c", SETUP).strip().splitlines()[-1])
    ports = {name: free_port() for name in ("w1", "j1", "w2", "j2", "web")}
    try:
        gw1 = run.start(
            "gateway1",
            "--only",
            "gateway",
            PINGANTONG_WATCH_PORT=str(ports["w1"]),
            PINGANTONG_JT808_PORT=str(ports["j1"]),
            PINGANTONG_HTTP_PORT="0",
            PINGANTONG_GATEWAY_NODE="gw1",
        )
        gw2 = run.start(
            "gateway2",
            "--only",
            "gateway",
            PINGANTONG_WATCH_PORT=str(ports["w2"]),
            PINGANTONG_JT808_PORT=str(ports["j2"]),
            PINGANTONG_HTTP_PORT="0",
            PINGANTONG_GATEWAY_NODE="gw2",
        )
        run.start("worker", "--only", "worker")
        web = run.start("web", "--only", "web", "--host", "127.0.0.1", "--port", str(ports["web"]))
        _wait_port(ports["w1"], *gw1)
        _wait_port(ports["j2"], *gw2)
        _wait_port(ports["web"], *web)
        base = f"http://127.0.0.1:{ports['web']}"

        # 1. SOS → gateway 1 → (PostgreSQL, Redis channel layer) → the agent's console on the web.
        cookie = _login_cookie(base)
        message = asyncio.run(
            _console_receives_alarm(
                f"ws://127.0.0.1:{ports['web']}/ws/alarms/",
                cookie,
                base,
                lambda: _send_sos(ports["w1"]),
                timeout=30,
            )
        )
        status, listing = _api(base, ids["token"], "/api/v1/alarms/?status=open")
        assert status == 200
        rows = listing["results"] if isinstance(listing, dict) else listing
        pushed = next(row for row in rows if row["id"] == message["id"])
        assert pushed["alarm_type"] == "sos" and pushed["device_id"] == WATCH_ID  # the id the watch sends

        # 2. A command from the web → the database queue → gateway 2 → the terminal on its socket.
        pendant = Pendant(ports["j2"])
        try:
            status, command = _api(
                base,
                ids["token"],
                f"/api/v1/devices/{ids['pendant']}/commands/",
                {"kind": "locate_now", "payload": {}},
            )
            assert status == 201, command
            deadline = time.monotonic() + 30
            while True:
                message_id, _body = pendant.read(timeout=max(deadline - time.monotonic(), 0.1))
                if message_id == 0x8201:  # JT/T 808 position query: the downlink arrived
                    break
        finally:
            pendant.close()
    finally:
        run.stop()
