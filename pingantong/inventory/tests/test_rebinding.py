"""The stock flows that pass a device from one client to another (reassignment, a used substitute in a
replacement) never carry the previous client's life sign to the next one (Q1, S04–S06, D4; decision
0111). Real actions, the real gateway pipeline and the real daily sweep. The stock actions bind at the
real time, so each sign is taken at the real time too, between the bindings it falls in."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from pingantong.care.actions import run_daily_confirmation
from pingantong.care.models import Task
from pingantong.clients.testing import make_client
from pingantong.devices.selectors import last_life_sign_for_client, life_sign_history_for_client
from pingantong.gateway import pipeline
from pingantong.gateway.events import DeviceEvent
from pingantong.gateway.ingest import FrameIn, store_batch
from pingantong.inventory import actions

from .helpers import new_item

pytestmark = pytest.mark.django_db
H = dt.timedelta(hours=1)


def walk(identity: str, at: dt.datetime, steps: int) -> None:
    """A step count from the watch `identity`, through the gateway's store and rules."""
    event = DeviceEvent(protocol="watch", device_id=identity, message="UD", kind="heartbeat", device_time=at)
    event.steps = steps
    _stored, handed = store_batch([FrameIn("watch", b"x", [event], received_at=at)], "test-node")
    pipeline.RulesEngine().process(handed)


def confirmation_due(now: dt.datetime) -> set[int]:
    run_daily_confirmation(now=now)
    return set(Task.objects.filter(kind="confirmation").values_list("client_id", flat=True))


def test_a_device_reassigned_through_stock_proves_nothing_of_its_next_client():
    a = make_client(categories=["living_alone"])
    b = make_client(categories=["living_alone"])
    item, _charge = actions.assign_stock_item(item=new_item(), client=a)
    walked = timezone.now()
    walk(item.device.identity, walked, 1800)
    assert last_life_sign_for_client(a.pk).last_life_sign_at == walked

    actions.cancel_assignment(item=item, reason="wrong client")
    actions.assign_stock_item(item=item, client=b)

    assert last_life_sign_for_client(b.pk).last_life_sign_at is None
    assert b.pk in confirmation_due(timezone.now() + H)
    assert [s.occurred_at for s in life_sign_history_for_client(a.pk)] == [walked]


def test_a_used_substitute_does_not_bring_its_previous_clients_sign_to_the_replacement():
    a = make_client(categories=["living_alone"])
    c = make_client(categories=["living_alone"])
    substitute, _charge = actions.assign_stock_item(item=new_item(), client=c)
    walked = timezone.now()
    walk(substitute.device.identity, walked, 600)  # C wore it
    actions.cancel_assignment(item=substitute, reason="C moved to a care home")
    faulty, _charge = actions.assign_stock_item(item=new_item(), client=a)
    actions.report_fault(item=faulty, reason="does not charge")

    actions.replace_stock_item(item=faulty, substitute=substitute, reason="D4 replacement")

    substitute.device.refresh_from_db()
    assert substitute.device.client_id == a.pk
    assert last_life_sign_for_client(a.pk).last_life_sign_at is None
    later = timezone.now() + H
    assert a.pk in confirmation_due(later)
    assert [s.occurred_at for s in life_sign_history_for_client(c.pk)] == [walked]
    walk(substitute.device.identity, later, 40)  # A wears the substitute
    assert last_life_sign_for_client(a.pk).last_life_sign_at == later
