"""The deployment examples in deploy/ stay true to the code: every systemd unit runs a command and
options that `pingantong` really has, with parts that exist; exactly one unit schedules periodic
tasks; the balancer examples carry the public device ports and the websocket upgrade."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from django.conf import settings

from pingantong.core import services
from pingantong.core.management.commands.run import PARTS
from pingantong.core.management.commands.run import Command as RunCommand

DEPLOY = Path(settings.PROJECT_DIR) / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
# Services that exist only when configured (the unit says when to enable it).
CONDITIONAL = {"pingantong-smpp.service": {"smpp-receipts"}}


def _exec_lines(unit: Path) -> list[tuple[dict[str, str], list[str]]]:
    """Each Exec line of a unit: the variables it sets through env(1), and the words after them."""
    text = unit.read_text().replace("\\\n", " ")
    result = []
    for line in text.splitlines():
        if not re.match(r"^Exec(Start|StartPost|StartPre)=", line):
            continue
        words = shlex.split(line.split("=", 1)[1].lstrip("-"))
        env: dict[str, str] = {}
        if words and words[0].endswith("/env"):
            words = words[1:]
            while words and "=" in words[0] and not words[0].startswith("-"):
                name, value = words.pop(0).split("=", 1)
                env[name] = value
        result.append((env, words))
    return result


def _commands(unit: Path) -> list[list[str]]:
    """The pingantong argument lists of a unit's Exec lines (after env(1) assignments)."""
    result = []
    for _env, words in _exec_lines(unit):
        assert words[0].endswith("/.venv/bin/pingantong"), words
        result.append(words[1:])
    return result


def test_there_are_units_for_every_part():
    names = {u.name for u in UNITS}
    assert {
        "pingantong-web@.service",
        "pingantong-gateway@.service",
        "pingantong-worker.service",
        "pingantong-worker@.service",
        "pingantong-migrate.service",
        "pingantong-mqtt.service",
        "pingantong-services.service",
    } <= names


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_unit_runs_real_parts_with_real_options(unit):
    known = set(PARTS) | set(services.all_services()) | CONDITIONAL.get(unit.name, set())
    for args in _commands(unit):
        if args[0] != "run":
            assert args[0] in {"migrate", "createsuperuser", "collectstatic"}, args
            continue
        parsed = (
            RunCommand()
            .create_parser("pingantong", "run")
            .parse_args([a.replace("%i", "8001") for a in args[1:]])
        )
        wanted = {p for p in parsed.only.split(",") if p}
        assert wanted and wanted <= known, (unit.name, wanted - known)
        assert parsed.no_migrate, f"{unit.name}: only the migrate unit migrates"


def test_exactly_one_unit_schedules_periodic_tasks():
    schedulers = [
        u.name
        for u in UNITS
        for args in _commands(u)
        if args[0] == "run" and "worker" in args and "--no-worker-periodic" not in args
    ]
    assert schedulers == ["pingantong-worker.service"]


def test_gateway_units_leave_mqtt_to_the_single_mqtt_unit():
    gateway = (DEPLOY / "systemd" / "pingantong-gateway@.service").read_text()
    assert "MQTT_URL= " in gateway and "PINGANTONG_MQTT_PORT=0" in gateway
    mqtt = (DEPLOY / "systemd" / "pingantong-mqtt.service").read_text()
    assert "PINGANTONG_WATCH_PORT=0" in mqtt and "PINGANTONG_JT808_PORT=0" in mqtt


def test_scaled_gateways_run_the_rules_and_the_writer_in_processes_of_their_own(monkeypatch):
    """Decision 0144 (issue 4): with the rules and the ingest writer in the gateway's own process,
    one interpreter lock caps a node below 10,000 msg/s; the scaled mode has Redis for the
    consoles' pushes, so its gateway unit runs both apart, as the benchmark measured."""
    from pingantong.gateway.ingest import rules_mode, writer_mode

    env = {
        k: v
        for e, _words in _exec_lines(DEPLOY / "systemd" / "pingantong-gateway@.service")
        for k, v in e.items()
    }
    assert env["PINGANTONG_GATEWAY_RULES"] == "process"
    for name in ("PINGANTONG_GATEWAY_RULES", "PINGANTONG_GATEWAY_WRITER"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert rules_mode() == "process"
    assert writer_mode(rules_mode()) == "process"


def test_balancers_carry_the_device_ports_and_the_websocket_upgrade():
    nginx = (DEPLOY / "nginx.conf").read_text()
    assert re.search(r"stream\s*\{", nginx)
    assert f"listen {5093}" in nginx and f"listen {5015}" in nginx
    assert "location /ws/" in nginx and "proxy_set_header Upgrade $http_upgrade" in nginx
    haproxy = (DEPLOY / "haproxy.cfg").read_text()
    assert "bind :5093" in haproxy and "bind :5015" in haproxy and "timeout tunnel" in haproxy
