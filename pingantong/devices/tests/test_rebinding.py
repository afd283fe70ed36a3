"""A device that changes hands (Q1, S04–S06, decision 0111): its life sign proves the previous client
alive, never the next one. Events go through the real gateway pipeline (store, rules, appliers) and
the real daily sweep, on a controlled clock (every time is given explicitly, relative to `now`)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from pingantong.care.actions import run_daily_confirmation
from pingantong.care.models import Task
from pingantong.care.selectors.lifesigns import clients_with_life_sign_since, life_status
from pingantong.clients.testing import make_client
from pingantong.devices.actions import bind_device, register_device, unbind_device
from pingantong.devices.models import Device, DeviceState, LifeSign
from pingantong.devices.selectors import last_life_sign_for_client, life_sign_history_for_client
from pingantong.gateway import pipeline
from pingantong.gateway.events import DeviceEvent, Position
from pingantong.gateway.ingest import FrameIn, store_batch

pytestmark = pytest.mark.django_db
H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)
IDENTITY = "4700199001"


def feed(at: dt.datetime, *, received_at: dt.datetime | None = None, **event) -> None:
    """One watch frame that happened at `at` (received then, or later for blind-area data), stored
    and run through the rules like the gateway does."""
    event.setdefault("message", "UD")
    event.setdefault("kind", "heartbeat")
    frame = FrameIn(
        "watch",
        b"x",
        [DeviceEvent(protocol="watch", device_id=IDENTITY, device_time=at, **event)],
        received_at=received_at or at,
    )
    _stored, handed = store_batch([frame], "test-node")
    pipeline.RulesEngine().process(handed)


@pytest.fixture
def now() -> dt.datetime:
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def a_and_b(now):
    """Client A has worn the watch for a week; client B is next in line for it."""
    a = make_client(categories=["living_alone"])
    b = make_client(categories=["living_alone"])
    watch = register_device(protocol="watch", identity=IDENTITY, device_type="watch")
    bind_device(device=watch, client=a, now=now - 7 * 24 * H)
    return a, b, watch


def confirmation_clients() -> set[int]:
    return set(Task.objects.filter(kind="confirmation").values_list("client_id", flat=True))


def test_rebound_device_does_not_carry_the_previous_clients_life_sign(a_and_b, now):
    a, b, watch = a_and_b
    feed(now - 3 * H, steps=2400, battery_pct=80)  # A walks
    assert last_life_sign_for_client(a.pk).last_life_sign_at == now - 3 * H
    bind_device(device=watch, client=b, now=now - 2 * H)  # the watch goes to B

    assert last_life_sign_for_client(b.pk).last_life_sign_at is None
    assert life_status(b.pk).last_life_sign_at is None
    assert b.pk not in clients_with_life_sign_since(now - 24 * H)
    result = run_daily_confirmation(now=now)
    assert b.pk in confirmation_clients() and len(result.opened) >= 1
    # The device itself is still known to be alive: its health is kept, the person's data is not.
    state = DeviceState.objects.get(device=watch)
    assert (state.last_device_seen_at, state.battery_pct) == (now - 3 * H, 80)
    assert (state.last_life_sign_at, state.last_life_sign_source, state.steps) == (None, "", None)
    assert state.bound_at == now - 2 * H


def test_previous_client_keeps_their_history_even_the_thinned_last_sign(a_and_b, now):
    a, b, watch = a_and_b
    feed(now - 5 * H, steps=100)
    feed(now - 5 * H + 5 * M, steps=180)  # within the history spacing: only on the state
    bind_device(device=watch, client=b, now=now - 4 * H)
    history = list(life_sign_history_for_client(a.pk).values_list("occurred_at", "source", "device_id"))
    assert history == [(now - 5 * H + 5 * M, "steps", watch.pk), (now - 5 * H, "steps", watch.pk)]
    assert not life_sign_history_for_client(b.pk).exists()


def test_a_new_step_count_after_rebinding_counts_for_the_new_client(a_and_b, now):
    a, b, watch = a_and_b
    feed(now - 6 * H, steps=3000)
    bind_device(device=watch, client=b, now=now - 4 * H)
    feed(now - 2 * H, steps=250)  # B walks with it
    sign = last_life_sign_for_client(b.pk)
    assert (sign.last_life_sign_at, sign.source, sign.device_id) == (now - 2 * H, "steps", watch.pk)
    assert life_status(b.pk).last_life_sign_at == now - 2 * H
    run_daily_confirmation(now=now)
    assert b.pk not in confirmation_clients()
    assert list(life_sign_history_for_client(b.pk).values_list("occurred_at", flat=True)) == [now - 2 * H]
    assert list(life_sign_history_for_client(a.pk).values_list("occurred_at", flat=True)) == [now - 6 * H]


def test_late_blind_area_data_of_the_previous_client_does_not_count_for_the_new_one(a_and_b, now):
    _a, b, watch = a_and_b
    bind_device(device=watch, client=b, now=now - 4 * H)
    # Steps and a fix A made before the hand-over, uploaded only now (the watch was out of coverage).
    feed(
        now - 5 * H,
        received_at=now - 10 * M,
        kind="position",
        steps=900,
        position=Position(26.30, 117.70, True, speed_kmh=4.0),
    )
    state = DeviceState.objects.get(device=watch)
    assert (state.last_life_sign_at, state.latitude, state.position_at) == (None, None, None)
    assert state.last_device_seen_at is not None  # the device was heard: that is not the person
    assert last_life_sign_for_client(b.pk).last_life_sign_at is None
    late = LifeSign.objects.get(device=watch)
    assert (late.occurred_at, late.client_id) == (now - 5 * H, None)  # kept, but not B's
    run_daily_confirmation(now=now)
    assert b.pk in confirmation_clients()


def test_readers_ignore_a_sign_older_than_the_binding_whoever_wrote_it(a_and_b, now):
    """The DB-level guard: a state row written around the actions (a script, a restore) with a sign
    older than the binding is not counted by the selector, the client page or the sweep."""
    _a, b, watch = a_and_b
    bind_device(device=watch, client=b, now=now - 4 * H)
    DeviceState.objects.filter(device=watch).update(
        last_life_sign_at=now - 5 * H, last_life_sign_source="steps"
    )
    assert last_life_sign_for_client(b.pk).last_life_sign_at is None
    assert life_status(b.pk).last_life_sign_at is None
    assert b.pk not in clients_with_life_sign_since(now - 24 * H)
    DeviceState.objects.filter(device=watch).update(last_life_sign_at=now - 3 * H)
    assert last_life_sign_for_client(b.pk).last_life_sign_at == now - 3 * H
    assert life_status(b.pk).last_life_sign_at == now - 3 * H
    assert b.pk in clients_with_life_sign_since(now - 24 * H)


def test_binding_again_to_the_same_client_keeps_their_life_sign(a_and_b, now):
    a, _b, watch = a_and_b
    feed(now - 3 * H, steps=700)
    stale = Device.objects.get(pk=watch.pk)
    bind_device(device=stale, client=a, now=now - H)  # e.g. an installation confirming the binding
    state = DeviceState.objects.get(device=watch)
    assert (state.last_life_sign_at, state.bound_at) == (now - 3 * H, now - 7 * 24 * H)
    assert last_life_sign_for_client(a.pk).last_life_sign_at == now - 3 * H


def test_unbinding_clears_the_persons_data_and_a_later_binding_starts_afresh(a_and_b, now):
    a, b, watch = a_and_b
    feed(now - 8 * H, kind="position", steps=1500, position=Position(26.26, 117.63, True, speed_kmh=3.0))
    assert DeviceState.objects.get(device=watch).latitude == 26.26
    unbind_device(device=watch, now=now - 7 * H)  # back to stock
    state = DeviceState.objects.get(device=watch)
    assert (state.last_life_sign_at, state.latitude, state.position_at, state.bound_at) == (
        None,
        None,
        None,
        now - 7 * H,
    )
    feed(now - 6 * H, steps=20)  # tested in the store: nobody's sign
    assert LifeSign.objects.get(occurred_at=now - 6 * H).client_id is None
    bind_device(device=watch, client=b, now=now - 5 * H)
    assert last_life_sign_for_client(b.pk).last_life_sign_at is None
    assert [s.occurred_at for s in life_sign_history_for_client(a.pk)] == [now - 8 * H]


def test_only_the_binding_actions_write_a_devices_client():
    """The reset above lives in `bind_device` / `unbind_device`: a new writer of `Device.client`
    elsewhere (a view, another app's action, a bulk update) would bypass it. Tests, benchmarks and
    demo fixtures create devices directly and are not service paths."""
    import re
    from pathlib import Path

    package = Path(__file__).resolve().parents[2]
    writer = re.compile(
        r"\bdevice\w*\.client(_id)?\s*=[^=]|Device\.objects[^\n#]*\.update\([^)\n]*\bclient", re.IGNORECASE
    )
    allowed = {package / "devices" / "actions.py"}
    offenders = [
        f"{path.relative_to(package)}:{n}"
        for path in package.rglob("*.py")
        if path not in allowed
        and not {"tests", "migrations"} & set(path.parts)
        and path.name not in ("bench.py", "terminals.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if writer.search(line)
    ]
    assert offenders == []
