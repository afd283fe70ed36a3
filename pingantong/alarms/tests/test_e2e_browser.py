"""End to end, in a real Chromium (issue 6 "Done when"): a simulated watch sends an SOS over TCP to the
real gateway listener; the alarm appears on the agent's console over the live websocket (polling is
set to 5 minutes, so only the socket can bring it); the agent claims it; the cascade alerts the
contacts through the development channel, the first does not acknowledge in time, the second does;
the agent closes the alarm with an outcome; the timeline shows every step.

The ASGI app (uvicorn) and the gateway share one event loop in a background thread, as under
`pingantong run`, so the in-memory channel layer carries the push.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time

import pytest

from pingantong.accounts.choices import Role

from .conftest import close_sync_thread_connection, ensure_alarm_regions, fresh_sync_thread_connection

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

AL_SOS = b"[3G*4700186508*0060*AL,280824,101500,A,26.263406,N,117.639612,E,0,0,50,8,90,79,1200,0,00010000,0]"
LK = b"[3G*4700186508*000B*LK,0,10,100]"


def _retry(fn, attempts: int = 50):
    """The test database is SQLite in memory with a shared cache, whose table locks do not wait
    (SQLITE_LOCKED): the test thread retries its own reads and writes while the server, the gateway
    and the supervision threads write. A file database in WAL mode (the product) waits instead."""
    from django.db import OperationalError

    for attempt in range(attempts):
        try:
            return fn()
        except OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.1)
    return None


def _ensure_message_templates() -> None:
    """A transactional test after another one may find the seeded message templates flushed: put
    them back as the notifications migration does."""
    import importlib

    from django.apps import apps

    importlib.import_module("pingantong.notifications.migrations.0002_seed_templates").seed(apps, None)


def _shot(page, name: str) -> None:
    """Screenshots for a person to look at, when PINGANTONG_SCREENSHOTS names a folder."""
    folder = os.environ.get("PINGANTONG_SCREENSHOTS")
    if folder:
        page.screenshot(path=f"{folder}/alarms-{name}.png", full_page=True)


@pytest.fixture
def platform(settings):
    """uvicorn (pingantong.asgi) + the gateway's watch listener + the alarm relay, one loop."""
    import uvicorn

    from pingantong.alarms import live
    from pingantong.gateway.listeners import Gateway
    from pingantong.gateway.tests.gwtools import LoopThread

    settings.PINGANTONG_ALARM_POLL_SECONDS = 300
    settings.PINGANTONG_CASCADE_ACK_SECONDS = 3
    settings.PINGANTONG_ALARM_SUPERVISE_SECONDS = 1.0
    settings.PINGANTONG_ALARM_RELAY_SECONDS = 1.0
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    from pingantong.asgi import application

    server = uvicorn.Server(
        uvicorn.Config(application, lifespan="off", log_level="warning", ws_ping_interval=None)
    )
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    lt = LoopThread()
    stop = asyncio.Event()

    async def start():
        gateway = Gateway({"watch": 0}, host="127.0.0.1", node="e2e-node", downlinks=False, recover=False)
        ports = await gateway.start()
        asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
        relaying = asyncio.get_running_loop().create_task(live.relay(stop))
        return gateway, ports, relaying

    async def finished(task: asyncio.Task) -> None:
        await asyncio.wait_for(task, 10)

    lt.run(fresh_sync_thread_connection())
    gateway, ports, relaying = lt.run(start())
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", ports["watch"], gateway, lt
    lt.loop.call_soon_threadsafe(stop.set)
    server.should_exit = True
    lt.run(finished(relaying))  # its last pass done and its thread's connection closed
    time.sleep(0.3)
    lt.run(gateway.stop())
    # The views' and consumers' queries ran in asgiref's thread-sensitive thread, which outlives the test.
    lt.run(close_sync_thread_connection())
    lt.close()
    sock.close()


def test_watch_sos_to_closed_loop_in_browser(
    platform, page, user_factory, password, client_factory, contact_factory
):
    from pingantong.alarms.models import Alarm, ContactAttempt
    from pingantong.devices.actions import bind_device, register_device
    from pingantong.gateway.tests.gwtools import Terminal, ensure_reference_data
    from pingantong.notifications.actions import acknowledge_message

    base, watch_port, _gateway, _lt = platform
    ensure_reference_data()
    ensure_alarm_regions()
    _ensure_message_templates()
    elder = client_factory("350404001001", name="陈阿婆", medical_notes="心脏病")
    contact_factory(elder, name="大儿子", phone="13700000001", priority=1, preferred_channel="sms")
    contact_factory(elder, name="小女儿", phone="13700000002", priority=2, preferred_channel="sms")
    bind_device(
        device=register_device(protocol="watch", identity="4700186508", device_type="watch"), client=elder
    )
    agent = user_factory(Role.AGENT, "350404000000", display_name="坐席小李")

    page.goto(f"{base}/login/?next=/alarms/")
    page.fill("#id_username", agent.username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/alarms/")
    page.wait_for_selector("#live-status[data-state=live]")

    watch = Terminal(watch_port)
    watch.send(LK)
    assert watch.read_until(b"]") == b"[3G*4700186508*0002*LK]"
    watch.send(AL_SOS)
    assert watch.read_until(b"]") == b"[3G*4700186508*0002*AL]"

    row = page.locator("tr[data-testid=alarm-row]", has_text="陈阿婆")
    row.wait_for(timeout=10000)
    assert page.evaluate("window.alarmConsole.state.messages") >= 1  # it came over the socket
    assert "SOS" in row.inner_text() or "紧急" in row.inner_text()
    _shot(page, "queue")
    row.locator("[data-testid=claim]").click()
    page.wait_for_url("**/alarms/*/")
    alarm = _retry(Alarm.objects.get)
    assert alarm.status == "claimed" and alarm.claimed_by == agent and alarm.client == elder

    # The cascade: the son is alerted first, does not acknowledge within 3 s; the daughter is next.
    deadline = time.monotonic() + 20
    second = None
    while time.monotonic() < deadline:
        second = _retry(
            lambda: (
                ContactAttempt.objects.filter(alarm=alarm, contact__name="小女儿")
                .select_related("message")
                .first()
            )
        )
        if second is not None and second.message is not None and second.message.status != "queued":
            break
        time.sleep(0.3)
    assert second is not None and second.message is not None, "the cascade never reached the second contact"
    _retry(lambda: acknowledge_message(message=second.message, answer="1"))
    page.locator("[data-testid=timeline] [data-step=notification_acknowledged]").wait_for(timeout=15000)

    page.select_option("[data-testid=close-form] select[name=outcome]", "family_attended")
    page.fill("[data-testid=close-form] textarea[name=note]", "女儿已到家，老人无碍")
    page.click("[data-testid=close]")
    page.wait_for_selector("[data-testid=outcome]")
    steps = page.locator("[data-testid=timeline] li").evaluate_all("els => els.map(e => e.dataset.step)")
    for kind in (
        "raised",
        "pushed",
        "claimed",
        "notification_sent",
        "notification_delivered",
        "notification_failed",
        "notification_acknowledged",
        "closed",
    ):
        assert kind in steps, f"{kind} missing from the timeline {steps}"
    _shot(page, "alarm-closed")
    _retry(alarm.refresh_from_db)
    assert alarm.status == "closed" and alarm.outcome == "family_attended"
    watch.close()
