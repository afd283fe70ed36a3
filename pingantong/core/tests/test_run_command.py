"""`pingantong run` from an empty database: migrates, creates and prints the first administrator,
serves the login page, and stops cleanly on Ctrl+C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest
from django.conf import settings

from pingantong.testing.network import free_port

pytestmark = pytest.mark.slow


def _log_in(base: str, username: str, password: str) -> httpx.Response:
    with httpx.Client(base_url=base, follow_redirects=False, timeout=10) as http:
        form = http.get("/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        done = http.post(
            "/login/", data={"username": username, "password": password, "csrfmiddlewaretoken": token}
        )
        if done.status_code != 302:
            return done
        return http.get(done.headers["location"])


def test_run_serves_login_and_the_printed_administrator_logs_in(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PINGANTONG_", "REDIS_URL"))}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path}/run.sqlite3",
        PINGANTONG_VAR_DIR=str(tmp_path),
        PINGANTONG_DEMO="0",
        PYTHONUNBUFFERED="1",
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pingantong.cli",
            "run",
            "--only",
            "web",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=settings.PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        status = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                status = httpx.get(f"{base}/login/", timeout=2).status_code
                if status == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        assert status == 200, "".join(output)[-3000:]

        text = "".join(output)
        match = re.search(r"password / 密码:\s+(\S+)", text)
        assert match, text[-3000:]
        assert "username / 用户名: admin" in text
        assert (tmp_path / "admin-login.txt").read_text().splitlines()[1] == f"password: {match.group(1)}"

        home = _log_in(base, "admin", match.group(1))
        assert home.status_code == 200 and "系统管理员" in home.text
        assert _log_in(base, "admin", "wrong-password").status_code == 200  # the form again, not a login
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert code == 0, "".join(output)[-3000:]
