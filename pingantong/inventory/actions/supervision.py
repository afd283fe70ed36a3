"""Supervision: silence or a fault opens a maintenance task with a 2-hour remedy target (JGJ/T
484-2019 §10.3: substitute device or manual service meanwhile); the weekly check of every SOS button
and wearable. Both sweeps are idempotent (run them as often as you like)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pingantong.devices.models import Device, DeviceEventRecord

from ..choices import CheckResult, HealthProblem, StockState
from ..models import DeviceCheck, TestCall
from ..selectors import DeviceHealth, health_of, maintenance_candidates, supervised_devices

REMEDY_TARGET = dt.timedelta(hours=2)
WEEKLY_WINDOW = dt.timedelta(days=7)
CHECK_TASK_DUE = dt.timedelta(hours=24)


def _source_ref(device: Device) -> str:
    return f"device:{device.pk}"


def _open_maintenance(source_ref: str | None = None) -> Any:
    from pingantong.care.choices import ACTIVE_STATUSES, TaskKind
    from pingantong.care.models import Task

    qs = Task.objects.filter(kind=TaskKind.MAINTENANCE, status__in=ACTIVE_STATUSES)
    return qs.filter(source_ref=source_ref) if source_ref is not None else qs


# pg_advisory_xact_lock key of "one active maintenance task per device" (any constant of our own).
MAINTENANCE_LOCK = 8_0089


def _lock_maintenance() -> None:
    """Serialize whoever opens device maintenance tasks (the sweep, a fault report, an overlapping
    or retried sweep) until the transaction ends, so "is one open?" and "open one" cannot interleave
    (decision 0090). SQLite needs nothing: its transactions are IMMEDIATE, one writer at a time."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [MAINTENANCE_LOCK])


def open_maintenance_task(
    *, device: Device, reason: str, now: dt.datetime, related: list | None = None
) -> tuple[Any, bool]:
    """Open a maintenance task for a device unless one is already open for it: (task, opened now)."""
    from pingantong.care.actions import open_task
    from pingantong.care.choices import TaskKind, TaskSource

    with transaction.atomic():
        _lock_maintenance()
        existing = _open_maintenance(_source_ref(device)).order_by().first()
        if existing is not None:
            return existing, False
        task = open_task(
            kind=TaskKind.MAINTENANCE,
            client=device.client,
            region=device.region_id,
            due_at=now + REMEDY_TARGET,
            reason=reason,
            source=TaskSource.DEVICE,
            source_ref=_source_ref(device),
            related=[device, *(related or [])],
            now=now,
        )
    return task, True


def _reason(health: DeviceHealth) -> str:
    device = health.device
    parts = []
    if HealthProblem.SILENT in health.problems and health.silent_for is not None:
        parts.append(
            _("silent for %(h).1f h, its type allows %(t).1f h")
            % {"h": health.silent_for.total_seconds() / 3600, "t": health.threshold.total_seconds() / 3600}
        )
    if HealthProblem.NEVER_REPORTED in health.problems:
        parts.append(_("installed but never reported"))
    if HealthProblem.FAULT in health.problems:
        parts.append(_("fault reported"))
    return _(
        "%(type)s %(device)s: %(problems)s. Remedy within 2 hours: bring a substitute device or arrange "
        "manual service (care calls/visits) meanwhile."
    ) % {"type": device.device_type.name, "device": device, "problems": "; ".join(parts)}


def needs_task(health: DeviceHealth) -> bool:
    """Whether the sweep opens a maintenance task for this device: silent beyond its type's
    threshold, a fault (alarm or faulty stock), or installed but never heard. Low battery and taken
    off are shown on the health screen but are not maintenance cases; a device that never reported
    and is not installed yet is the activation check's business."""
    if not health.needs_maintenance:
        return False
    if set(health.problems) <= {HealthProblem.NEVER_REPORTED, HealthProblem.LOW_BATTERY}:
        item = getattr(health.device, "stock_item", None)
        return item is not None and item.state == StockState.INSTALLED
    return True


def _busy_devices() -> set[str]:
    return set(
        _open_maintenance().filter(source_ref__startswith="device:").values_list("source_ref", flat=True)
    )


def supervise_devices(*, now: dt.datetime | None = None) -> list[Any]:
    """Check every supervised device; open a maintenance task for each silent or faulty one that
    has none open. Returns the tasks opened.

    A fixed number of queries whatever the fleet (decision 0091): the candidates are selected in
    the database (per-type cutoffs), the open tasks are read once, and the new tasks, their
    "opened" events and audit entries are written in multi-row INSERTs (`care.bulk_open`).
    Deciding happens outside any transaction (on SQLite a write transaction holds the one write
    lock the gateway also needs); the writing is one short transaction under the maintenance lock
    that reads the active tasks again, so an overlapping or retried sweep (or a fault report at the
    same moment) cannot open a second task for a device (0090). A sweep with nothing to open
    writes nothing."""
    from pingantong.care.bulk_open import NewTask, open_tasks
    from pingantong.care.choices import TaskKind, TaskSource

    now = now or timezone.now()
    busy = _busy_devices()
    specs = []
    for health in health_of(maintenance_candidates(now), now):
        device = health.device
        ref = _source_ref(device)
        if ref in busy or not needs_task(health):
            continue
        busy.add(ref)
        specs.append(
            NewTask(
                kind=TaskKind.MAINTENANCE,
                client_id=device.client_id,
                region_id=str(device.region_id),
                due_at=now + REMEDY_TARGET,
                reason=_reason(health),
                source=TaskSource.DEVICE,
                source_ref=ref,
                related=[device],
            )
        )
    if not specs:
        return []
    with transaction.atomic():
        _lock_maintenance()
        busy = _busy_devices()  # under the lock: what another writer opened meanwhile
        return open_tasks([s for s in specs if s.source_ref not in busy], now=now)


def iso_week(moment: dt.datetime) -> str:
    year, week, _day = timezone.localtime(moment).isocalendar()
    return f"{year}-W{week:02d}"


def last_press_at(device: Device, now: dt.datetime) -> tuple[dt.datetime | None, str]:
    """The latest SOS press or recorded test call within the weekly window, and what it was."""
    since = now - WEEKLY_WINDOW
    best: tuple[dt.datetime | None, str] = (None, "")
    for at, alarms in DeviceEventRecord.objects.filter(
        device=device, kind="alarm", received_at__gte=since
    ).values_list("received_at", "alarms"):
        if "sos" in (alarms or []) and (best[0] is None or at > best[0]):
            best = (at, "sos press")
    call = TestCall.objects.filter(device=device, at__gte=since).order_by("-at").first()
    if call is not None and (best[0] is None or call.at > best[0]):
        best = (call.at, "test call")
    return best


def last_presses(device_ids: set[int], now: dt.datetime) -> dict[int, tuple[dt.datetime, str]]:
    """`last_press_at` for many devices in two queries: the last week's SOS alarms (by the partial
    alarm index) and test calls."""
    since = now - WEEKLY_WINDOW
    best: dict[int, tuple[dt.datetime, str]] = {}
    for device_id, at, alarms in DeviceEventRecord.objects.filter(
        kind="alarm", received_at__gte=since, device__isnull=False
    ).values_list("device_id", "received_at", "alarms"):
        if device_id not in device_ids or "sos" not in (alarms or []):
            continue
        if device_id not in best or at > best[device_id][0]:
            best[device_id] = (at, "sos press")
    for device_id, at in TestCall.objects.filter(at__gte=since).values_list("device_id", "at"):
        if device_id in device_ids and (device_id not in best or at > best[device_id][0]):
            best[device_id] = (at, "test call")
    return best


WEEKLY_CHUNK = 500
"""Devices written per transaction by the weekly check (a short hold of SQLite's write lock)."""


def run_weekly_check(*, now: dt.datetime | None = None) -> list[DeviceCheck]:
    """Check every SOS button and wearable once per ISO week: a press or test call within 7 days
    passes; otherwise a check task is opened, or the device's check task of an earlier week, still
    active, is named by the result. Records each result (idempotent per device and week).

    In bulk (decision 0092): the week's done checks, the devices, the last week's presses and test
    calls are read once; then per 500 devices one short transaction under the maintenance lock
    (0090) reads that chunk's done checks again and writes its tasks, results and their audit
    entries in multi-row INSERTs."""
    now = now or timezone.now()
    week = iso_week(now)
    done = set(DeviceCheck.objects.filter(week=week).values_list("device_id", flat=True))
    devices = [
        d
        for d in supervised_devices(with_client=False).filter(device_type__profile__weekly_check=True)
        if d.pk not in done
    ]
    if not devices:
        return []
    presses = last_presses({d.pk for d in devices}, now)
    results: list[DeviceCheck] = []
    for start in range(0, len(devices), WEEKLY_CHUNK):
        results.extend(_check_chunk(devices[start : start + WEEKLY_CHUNK], presses, week, now))
    return results


def _check_chunk(
    devices: list[Device], presses: dict[int, tuple[dt.datetime, str]], week: str, now: dt.datetime
) -> list[DeviceCheck]:
    from pingantong.care.bulk_open import NewTask, audit_created, open_tasks
    from pingantong.care.choices import TaskKind, TaskSource
    from pingantong.care.models import Task

    with transaction.atomic():
        _lock_maintenance()
        done = set(
            DeviceCheck.objects.filter(week=week, device_id__in=[d.pk for d in devices]).values_list(
                "device_id", flat=True
            )
        )
        devices = [d for d in devices if d.pk not in done]
        key = {d.pk: f"inventory-check:{d.pk}:{week}" for d in devices}
        # A check task of an earlier week still active for the device: this week's failure joins
        # it instead of putting a second "make a test call" task for one device on the worklist.
        active = dict(
            _open_maintenance()
            .filter(source_ref__in=[f"check:{d.pk}" for d in devices])
            .values_list("source_ref", "pk")
        )
        failed = [d for d in devices if d.pk not in presses and f"check:{d.pk}" not in active]
        open_tasks(
            [
                NewTask(
                    kind=TaskKind.MAINTENANCE,
                    client_id=d.client_id,
                    region_id=str(d.region_id),
                    due_at=now + CHECK_TASK_DUE,
                    reason=_(
                        "Weekly check of %(device)s: no SOS press or test call in 7 days. Make a test "
                        "call with the client and record it."
                    )
                    % {"device": d},
                    source=TaskSource.DEVICE,
                    source_ref=f"check:{d.pk}",
                    related=[d],
                    dedupe_key=key[d.pk],
                )
                for d in failed
            ],
            now=now,
        )
        task_of = dict(
            Task.objects.filter(dedupe_key__in=[key[d.pk] for d in failed]).values_list("dedupe_key", "pk")
        )
        results = []
        for d in devices:
            at, what = presses.get(d.pk, (None, ""))
            results.append(
                DeviceCheck(
                    device=d,
                    region_id=str(d.region_id),
                    week=week,
                    checked_at=now,
                    result=CheckResult.PASSED if at else CheckResult.FAILED,
                    last_press_at=at,
                    evidence=what,
                    task_id=None if at else active.get(f"check:{d.pk}") or task_of[key[d.pk]],
                )
            )
        DeviceCheck.objects.bulk_create(results, batch_size=WEEKLY_CHUNK)
        audit_created(results)
    return results


@transaction.atomic
def record_test_call(
    *, device: Device, by: Any = None, note: str = "", now: dt.datetime | None = None
) -> TestCall:
    """A staff member made a test call / test press with the client: counts for the weekly check."""
    if device.client_id is None:
        raise ValueError(_("The device is not bound to a client."))
    return TestCall.objects.create(
        device=device,
        region_id=str(device.region_id),
        at=now or timezone.now(),
        by=by if getattr(by, "is_authenticated", False) else None,
        note=note[:200],
    )
