"""The live channel: a raised alarm reaches the consoles of its region over the websocket, and
not the consoles of another town; the relay pushes what another process wrote."""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.testing import ApplicationCommunicator

from pingantong.alarms import actions, live
from pingantong.alarms.consumers import AlarmConsumer, console_groups

from .conftest import close_sync_thread_connection, ensure_alarm_regions

pytestmark = pytest.mark.django_db(transaction=True)


def async_to_sync(fn):
    """Run a coroutine function in a fresh thread's event loop: the session's Playwright browser keeps
    a loop running in the main thread, where asgiref's AsyncToSync refuses to run."""

    def runner(*args, **kwargs):
        result: dict = {}

        def target():
            try:
                result["value"] = asyncio.run(fn(*args, **kwargs))
            except BaseException as exc:
                result["error"] = exc

        thread = threading.Thread(target=target)
        thread.start()
        thread.join(30)
        if "error" in result:
            raise result["error"]
        return result.get("value")

    return runner


class Socket(ApplicationCommunicator):
    """A websocket client for ASGI tests (channels.testing needs daphne, which we do not ship)."""

    def __init__(self, user):
        super().__init__(
            AlarmConsumer.as_asgi(),
            {"type": "websocket", "path": "/ws/alarms/", "headers": [], "subprotocols": [], "user": user},
        )

    async def connect(self):
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(5)
        return response["type"] == "websocket.accept"

    async def receive_json_from(self, timeout=5):
        import json

        response = await self.receive_output(timeout)
        assert response["type"] == "websocket.send", response
        return json.loads(response["text"])

    async def disconnect(self):
        await self.send_input({"type": "websocket.disconnect", "code": 1000})
        await self.wait(1)


async def _connect(user):
    communicator = Socket(user)
    connected = await communicator.connect()
    return communicator, connected


@pytest.fixture(autouse=True)
def _regions(transactional_db):
    ensure_alarm_regions()
    yield
    async_to_sync(close_sync_thread_connection)()  # the consumers' queries opened it


def test_console_groups_follow_role_regions(user_factory):
    assert console_groups(user_factory("agent", "350404000000")) == ["alarms.350404"]
    assert console_groups(user_factory("field_worker", "350404000000")) == []


def test_raised_alarm_is_pushed_to_region_console_not_other_town(user_factory, client_factory):
    agent = user_factory("agent", "350404001000")
    other = user_factory("agent", "350404002000")
    elder = client_factory("350404001001", name="李爷爷")

    async def scenario():
        mine, ok1 = await _connect(agent)
        theirs, ok2 = await _connect(other)
        assert ok1 and ok2
        assert (await mine.receive_json_from())["type"] == "hello"
        assert (await theirs.receive_json_from())["type"] == "hello"
        from channels.db import database_sync_to_async

        alarm = await database_sync_to_async(actions.raise_alarm)(alarm_type="sos", client=elder)
        message = await mine.receive_json_from(timeout=5)
        assert message["type"] == "alarm" and message["id"] == alarm.pk and message["status"] == "open"
        assert "李爷爷" in message["html"] and 'data-testid="claim"' in message["html"]
        assert await theirs.receive_nothing(timeout=0.3)
        await mine.disconnect()
        await theirs.disconnect()
        return alarm

    alarm = async_to_sync(scenario)()
    assert alarm.steps.filter(kind="pushed").exists()


def test_anonymous_socket_is_refused():
    from django.contrib.auth.models import AnonymousUser

    async def scenario():
        _comm, connected = await _connect(AnonymousUser())
        return connected

    assert async_to_sync(scenario)() is False


def test_relay_pushes_changes_this_process_did_not(user_factory, elder_factory=None):
    from datetime import timedelta

    from django.utils import timezone

    agent = user_factory("agent", "350404000000")
    since = timezone.now() - timedelta(seconds=1)
    alarm = actions.raise_alarm(alarm_type="fall", device_ident="555")
    live._pushed.pop(alarm.pk, None)  # as if the worker process had written it

    async def scenario():
        console, _ok = await _connect(agent)
        await console.receive_json_from()
        from channels.db import database_sync_to_async

        await database_sync_to_async(live.relay_once)(since)
        message = await console.receive_json_from(timeout=5)
        again = await database_sync_to_async(live.relay_once)(since)
        assert await console.receive_nothing(timeout=0.3)  # already pushed: not again
        await console.disconnect()
        return message, again

    message, _cursor = async_to_sync(scenario)()
    assert message["id"] == alarm.pk and message["event"] == "relay"


def test_relay_still_pushes_an_alarm_committed_after_its_cursor_moved_on(user_factory):
    """An alarm stamped before the relay's cursor (its transaction committed late, after a quicker
    change was relayed) is pushed on the next pass, once."""
    from datetime import timedelta

    from django.utils import timezone

    from pingantong.alarms.models import Alarm

    agent = user_factory("agent", "350404000000")
    late = actions.raise_alarm(alarm_type="sos", device_ident="556")
    stamped = timezone.now() - timedelta(seconds=3)
    Alarm.objects.filter(pk=late.pk).update(updated_at=stamped)  # stamped 3 s ago, visible only now
    live._pushed.pop(late.pk, None)
    cursor = timezone.now() - timedelta(seconds=1)  # the relay already saw a change 1 s ago

    async def scenario():
        console, _ok = await _connect(agent)
        await console.receive_json_from()
        from channels.db import database_sync_to_async

        await database_sync_to_async(live.relay_once)(cursor)
        message = await console.receive_json_from(timeout=5)
        await database_sync_to_async(live.relay_once)(cursor)
        assert await console.receive_nothing(timeout=0.3)  # once
        await console.disconnect()
        return message

    message = async_to_sync(scenario)()
    assert message["id"] == late.pk and message["event"] == "relay"


def test_relay_wakes_on_the_change_signal_long_before_its_period(user_factory, settings):
    """Another process's commit touches the change signal: the relay passes at once instead of
    waiting for its period (here 30 s), so the console has the alarm within a fraction of a second."""
    import asyncio
    import time

    settings.PINGANTONG_ALARM_RELAY_SECONDS = 30.0
    settings.PINGANTONG_ALARM_SUPERVISE_SECONDS = 3600.0
    agent = user_factory("agent", "350404000000")

    async def scenario():
        console, _ok = await _connect(agent)
        await console.receive_json_from()
        stop = asyncio.Event()
        relaying = asyncio.create_task(live.relay(stop))
        await asyncio.sleep(0.2)  # its first pass is done; the next periodic one is 30 s away
        from channels.db import database_sync_to_async

        from pingantong.alarms.models import Alarm

        # Written "by another process": a plain row, no push from here.
        alarm = await database_sync_to_async(Alarm.objects.create)(
            alarm_type="sos", device_ident="557", region_id="350404000000"
        )
        started = time.monotonic()
        live.signal_change()
        message = await console.receive_json_from(timeout=5)
        waited = time.monotonic() - started
        stop.set()
        await relaying
        await console.disconnect()
        return alarm, message, waited

    alarm, message, waited = async_to_sync(scenario)()
    assert message["id"] == alarm.pk and message["event"] == "relay"
    assert waited < 2.0


def test_a_long_supervision_pass_does_not_hold_up_the_web_processs_sync_work(settings, monkeypatch):
    """Decision 0123: the relay's passes run in a thread of their own. In asgiref's thread-sensitive
    thread (every sync view and `database_sync_to_async` call, e.g. a console's websocket
    connecting) an escalation pass over a full queue held the web process up for seconds."""
    import time

    from asgiref.sync import sync_to_async

    from pingantong.alarms import tasks

    settings.PINGANTONG_ALARM_SUPERVISE_SECONDS = 0.0
    passing = threading.Event()

    def slow_supervise():
        passing.set()
        time.sleep(1.5)
        return {"escalated": 0, "advanced": 0}

    monkeypatch.setattr(tasks, "supervise", slow_supervise)

    async def scenario():
        stop = asyncio.Event()
        relaying = asyncio.create_task(live.relay(stop))
        await asyncio.get_running_loop().run_in_executor(None, passing.wait, 5)
        started = time.monotonic()
        await sync_to_async(lambda: None, thread_sensitive=True)()  # what a sync view waits for
        waited = time.monotonic() - started
        stop.set()
        await relaying
        return waited

    waited = async_to_sync(scenario)()
    assert passing.is_set()
    assert waited < 0.5


def test_the_relay_reaches_a_new_alarm_behind_a_mass_change(monkeypatch):
    """Six hundred alarms changed in one statement (one timestamp), then an SOS: the relay pushes
    the SOS at its next pass. (Oldest first with a limit of 500, every pass took the same 500
    rows of the mass change again and never reached the alarms after them.)"""
    from datetime import timedelta

    from django.utils import timezone

    from pingantong.alarms.models import Alarm

    ensure_alarm_regions()
    before = timezone.now() - timedelta(seconds=2)
    Alarm.objects.bulk_create(
        Alarm(alarm_type="sos", device_ident=f"mass{n}", region_id="350404000000") for n in range(600)
    )
    Alarm.objects.update(updated_at=timezone.now() - timedelta(seconds=1))
    sos = Alarm.objects.create(alarm_type="sos", device_ident="after-the-mass", region_id="350404000000")
    pushed: list[int] = []
    monkeypatch.setattr(live, "push_alarm", lambda alarm_id, **kwargs: pushed.append(alarm_id))
    cursor = live.relay_once(before)
    assert pushed[0] == sos.pk  # newest change first
    assert cursor >= sos.updated_at
    pushed.clear()
    live.relay_once(cursor)
    assert sos.pk not in pushed and len(pushed) == 601 - live.RELAY_MAX_PUSHES  # the rest, once
