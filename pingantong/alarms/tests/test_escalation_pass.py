"""The escalation pass (decision 0123) marks every due alarm in one transaction, in a turn at the
write lock shared with the gateway's writers, and leaves the cascade and the supervisors' SMS to
the task worker: it runs every few seconds beside the gateway (one process in the embedded mode),
and sending inline there kept the next SOS's alarm waiting for the write lock for seconds."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from pingantong.alarms import actions
from pingantong.gateway.ingest.writelock import writer_turn
from pingantong.notifications.models import Message

from .test_escalation_sms import on_shift, overdue_sos

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued_tasks():
    """Tasks go to the queue instead of running at once (as with a real worker)."""
    HUEY.immediate = False
    HUEY.flush()
    try:
        yield HUEY
    finally:
        HUEY.flush()
        HUEY.immediate = True


def test_the_cascade_and_the_sms_are_left_to_the_worker(
    elder, user_factory, queued_tasks, django_capture_on_commit_callbacks
):
    from .conftest import DISTRICT

    on_shift(user_factory("supervisor", DISTRICT, phone="13900000001"), DISTRICT)
    first, second = overdue_sos(elder), overdue_sos(elder, seconds=120)
    with django_capture_on_commit_callbacks(execute=True):
        escalated = actions.escalate_unclaimed(after_seconds=45)
    assert sorted(escalated) == sorted({first.pk, second.pk})
    assert all(a.steps.filter(kind="escalated").exists() for a in (first, second))
    # Nothing was sent by the pass itself: one follow-up per alarm waits for the worker.
    assert not Message.objects.filter(template_code="alarm_escalated_supervisor").exists()
    assert queued_tasks.pending_count() == len(escalated)
    tasks = []
    while (task := queued_tasks.dequeue()) is not None:
        tasks.append(task)
    assert {t.name.rsplit(".", 1)[-1] for t in tasks} == {"escalation_followup"}
    queued_tasks.immediate = True  # the worker's run, in this test's transaction
    for task in tasks:
        queued_tasks.execute(task)
    assert Message.objects.filter(template_code="alarm_escalated_supervisor").count() == len(escalated)
    first.refresh_from_db()
    assert first.steps.filter(kind="supervisor_notified").exists()


def test_the_pass_writes_in_its_turn_at_the_write_lock(elder, django_capture_on_commit_callbacks):
    if connection.vendor != "sqlite" or connection.is_in_memory_db():
        pytest.skip("the write-lock turn exists only on a SQLite file database")
    alarm = overdue_sos(elder)
    held, release = threading.Event(), threading.Event()

    def gateway_writer() -> None:
        with writer_turn():
            held.set()
            release.wait(5)

    other = threading.Thread(target=gateway_writer)
    other.start()
    held.wait(5)
    done: list[float] = []
    started = time.monotonic()

    def let_go() -> None:
        time.sleep(0.3)
        release.set()

    threading.Thread(target=let_go).start()
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.escalate_unclaimed(now=timezone.now() + timedelta(seconds=1)) == [alarm.pk]
    done.append(time.monotonic() - started)
    other.join()
    # It waited for the turn the other writer held (0.3 s) instead of writing around it.
    assert done[0] >= 0.25
