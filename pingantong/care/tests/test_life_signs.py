"""Life signs (S04, S05, Q1) end to end: device events go through the real gateway pipeline
(store, rules, appliers), then the daily sweep decides. A heartbeat proves the device, not the
person: a day of heartbeats opens a confirmation task; a step count does not."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from pingantong.care.actions import run_daily_confirmation
from pingantong.care.actions.lifesigns import record_life_sign
from pingantong.care.choices import TaskKind
from pingantong.care.models import Task
from pingantong.care.selectors.lifesigns import life_status
from pingantong.devices.actions import bind_device, register_device
from pingantong.gateway import pipeline
from pingantong.gateway.events import DeviceEvent
from pingantong.gateway.ingest import FrameIn, store_batch

pytestmark = pytest.mark.django_db
H = dt.timedelta(hours=1)


def feed(identity: str, at: dt.datetime, **event) -> None:
    """One watch frame received at `at`, stored and run through the rules like the gateway does."""
    event.setdefault("message", "LK")
    event.setdefault("kind", "heartbeat")
    frame = FrameIn(
        "watch",
        b"x",
        [DeviceEvent(protocol="watch", device_id=identity, device_time=at, **event)],
        received_at=at,
    )
    _stored, handed = store_batch([frame], "test-node")
    pipeline.RulesEngine().process(handed)


@pytest.fixture
def watch_client(client_factory, now):
    client = client_factory(categories=["living_alone"])
    device = register_device(protocol="watch", identity="4700186508", device_type="watch")
    # Bound before the day the tests feed: signs from before the binding are not the client's.
    bind_device(device=device, client=client, now=now - 3 * 24 * H)
    return client


def test_heartbeat_only_day_opens_a_confirmation_task(watch_client, now):
    for hours in (22, 16, 10, 4, 1):
        feed("4700186508", now - hours * H)
    status = life_status(watch_client.pk)
    assert status.last_life_sign_at is None
    assert status.last_device_seen_at == now - H and status.device_only
    result = run_daily_confirmation(now=now)
    task = Task.objects.get()
    assert result.opened == [task.pk] and task.kind == TaskKind.CONFIRMATION and task.client == watch_client


def test_a_step_count_within_the_day_opens_nothing(watch_client, now):
    feed("4700186508", now - 20 * H)
    feed("4700186508", now - 6 * H, steps=1320)
    feed("4700186508", now - H)  # later heartbeat: the device is newer, the person still confirmed
    status = life_status(watch_client.pk)
    assert (status.last_life_sign_at, status.source, status.origin) == (now - 6 * H, "steps", "device")
    assert status.device_only  # shown as such: the last message proves only the device
    result = run_daily_confirmation(now=now)
    assert result.opened == [] and result.confirmed_by_life_sign == 1
    assert not Task.objects.exists()


def test_steps_from_yesterday_morning_do_not_cover_today(watch_client, now):
    feed("4700186508", now - 30 * H, steps=800)
    feed("4700186508", now - 2 * H)
    assert len(run_daily_confirmation(now=now).opened) == 1


def test_a_care_record_newer_than_the_device_sign_wins(watch_client, now):
    feed("4700186508", now - 6 * H, steps=500)
    record_life_sign(
        client=watch_client, at=now - 2 * H, source="visit", evidence={"model": "care.visit", "pk": "9"}
    )
    status = life_status(watch_client.pk)
    assert (status.source, status.origin, status.evidence["model"]) == ("visit", "care", "care.visit")


def test_life_sign_status_api_and_client_widget_show_device_only(
    watch_client, now, user_factory, api_client, client
):
    feed("4700186508", now - 3 * H)
    agent = user_factory("agent", watch_client.region_id)
    api_client.force_authenticate(agent)
    body = api_client.get(reverse("care-life-sign-status"), {"client": watch_client.pk}).json()
    assert body["last_life_sign_at"] is None and body["device_only"] is True
    client.force_login(agent)
    html = client.get(reverse("care:client-life-sign", args=[watch_client.pk])).content.decode()
    assert 'data-testid="device-only"' in html


def test_steps_after_the_task_opened_close_it_and_a_heartbeat_does_not(watch_client, now):
    from pingantong.care.actions.confirmation import close_confirmed_tasks

    feed("4700186508", now - 2 * H)  # heartbeat only: a task opens
    run_daily_confirmation(now=now)
    task = Task.objects.get()
    feed("4700186508", now + H)  # another heartbeat: still nobody has seen the person
    assert close_confirmed_tasks(now=now + 2 * H) == []
    feed("4700186508", now + 3 * H, steps=420)  # the person walks
    assert close_confirmed_tasks(now=now + 4 * H) == [task.pk]
    task.refresh_from_db()
    assert (task.status, task.outcome, task.notes["life_sign"]["source"]) == (
        "done",
        "confirmed_well",
        "steps",
    )
