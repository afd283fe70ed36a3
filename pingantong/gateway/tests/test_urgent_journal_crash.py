"""The urgent journal across a real crash (decision 0130; issue 4, S01): `pingantong run --only
gateway` acknowledges an SOS from its journal while another writer holds the SQLite database, is
killed with SIGKILL before the database has the SOS, and the restarted gateway (another process
id) stores it, once."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings

from pingantong.gateway.tests.gwtools import Terminal, jt808_position
from pingantong.testing.network import free_port

pytestmark = pytest.mark.slow

PHONE = bytes.fromhex("013912340074")


class _Gateway:
    """`pingantong run --only gateway` on a database of its own, its output kept."""

    def __init__(self, database: Path, port: int) -> None:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "PINGANTONG_", "REDIS_URL", "MQTT_URL"))
        }
        env.update(
            DATABASE_URL=f"sqlite:///{database}",
            PINGANTONG_VAR_DIR=str(database.parent),
            PINGANTONG_DEMO="0",
            PINGANTONG_JT808_PORT=str(port),
            PINGANTONG_WATCH_PORT="0",
            PINGANTONG_MQTT_PORT="0",
            PYTHONUNBUFFERED="1",
        )
        self.output: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pingantong.cli", "run", "--only", "gateway"],
            cwd=settings.PROJECT_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        stdout = self.process.stdout
        assert stdout is not None
        threading.Thread(target=lambda: self.output.extend(iter(stdout.readline, "")), daemon=True).start()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.3)
        self.process.kill()
        raise AssertionError("the gateway did not start:\n" + self.log())

    def log(self) -> str:
        return "".join(self.output)[-4000:]

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


def _count(database: Path, sql: str) -> int:
    db = sqlite3.connect(database, timeout=10)
    try:
        return int(db.execute(sql).fetchone()[0])
    finally:
        db.close()


SOS_STORED = "SELECT COUNT(*) FROM devices_deviceeventrecord WHERE serial = 2 AND message = '0x0200'"


@pytest.mark.skipif(
    "settings.DATABASES['default']['ENGINE'] != 'django.db.backends.sqlite3'", reason="SQLite's journal"
)
def test_an_sos_acknowledged_from_the_journal_survives_a_killed_gateway(tmp_path):
    database = tmp_path / "crash.sqlite3"
    port = free_port()
    gateway = _Gateway(database, port)
    try:
        term = Terminal(port)
        term.send(jt808_position(PHONE, 1))
        term.read_frame_7e()  # identified and stored
        other = sqlite3.connect(database, isolation_level=None, timeout=10)
        other.execute("BEGIN IMMEDIATE")  # another writer holds the database
        try:
            term.send(jt808_position(PHONE, 2, sos=True))
            term.read_frame_7e()  # acknowledged from the journal
            gateway.process.kill()  # SIGKILL: no clean-up of any kind
            gateway.process.wait(timeout=30)
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert _count(database, SOS_STORED) == 0, "the database never got it from the killed gateway"
        journal = tmp_path / "crash.sqlite3.urgent-1"  # the slot the killed gateway owned
        assert _count(journal, "SELECT COUNT(*) FROM entry") == 1, "it is in the journal"
    finally:
        if gateway.process.poll() is None:
            gateway.process.kill()

    restarted = _Gateway(database, port)  # another process, another process id
    try:
        deadline = time.monotonic() + 60
        while _count(database, SOS_STORED) == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _count(database, SOS_STORED) == 1, restarted.log()
        time.sleep(1.0)
        assert _count(database, SOS_STORED) == 1, "stored once"
    finally:
        code = restarted.stop()
    assert code == 0, restarted.log()
    assert not (tmp_path / "crash.sqlite3.urgent-1").exists(), "the emptied journal is removed at stop"
