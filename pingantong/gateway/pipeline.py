"""The rules stage: after an event is committed, pure rules turn it into decisions and one engine
applies them (ARCHITECTURE.md §3).

    register_rule(fn)                      # fn(event: DeviceEvent, ctx: RuleContext) -> list[Decision]
    register_applier(DecisionType, fn)     # fn(decision) -> None, or fn(list[decision]) with batch=True

Rules never write; only the engine applies decisions, each applier in its own transaction, so a
failing rule or applier is logged and cannot stop the others. Events are handed over in commit
order by one pipeline thread, so a device's events are processed in the order they were stored
(S01: an SOS is never overtaken by a later heartbeat's state). An event is taken off the rules
queue (`UnprocessedEvent`, decision 0132) once its decisions are applied; `recover_unprocessed()`
replays what a crashed gateway stored but did not process, so a stored SOS always reaches the
alarm rule.

A deadlock or serialization failure (PostgreSQL aborts one of two transactions that wait on each
other) is not a failure of the applier: its transaction is rolled back and run again a few times
after a short backoff (`atomic_retrying`, decision 0112), so the batch's state, life signs and
alarms are applied once and nothing is dropped. Writers of `DeviceState` rows also lock them in
ascending `device_id` order, so such deadlocks should not happen in the first place.

How the alarm centre hooks in (pingantong/alarms): write a rule returning `RaiseAlarm` for events
with alarms, and register an applier that calls `pingantong.alarms.actions.raise_alarm`:

    def alarm_rule(event, ctx):
        return [RaiseAlarm(alarm_type=a, event_id=ctx.event_id, device_pk=ctx.device_pk,
                           device_identity=ctx.device_identity, protocol=ctx.protocol,
                           client_id=ctx.client_id, unbound=ctx.unbound,
                           occurred_at=event.device_time or ctx.received_at) for a in event.alarms]
    register_rule(alarm_rule)
    register_applier(RaiseAlarm, lambda d: raise_alarm(...))
"""

from __future__ import annotations

import functools
import logging
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, TypeVar

from django.db import DatabaseError, transaction

from pingantong.gateway.events import DeviceEvent

log = logging.getLogger("pingantong.gateway.pipeline")

LIFE_SIGN_HISTORY_SPACING = timedelta(minutes=15)
"""At most one `LifeSign` history row per device per this interval (the latest sits on DeviceState)."""

MOVEMENT_SPEED_KMH = 3.0
"""A valid fix faster than walking pace counts as movement of the person (JT/T 808 trackers)."""


TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})
"""deadlock_detected, serialization_failure: the transaction was aborted only to break a conflict."""

RETRY_ATTEMPTS = 5
RETRY_BACKOFF_SECONDS = 0.01
"""First pause before a retry; doubled each time, with jitter (at most ~0.25 s in all)."""


def is_transient(exc: BaseException) -> bool:
    """True for a deadlock or serialization failure anywhere in the exception's chain (Django
    raises `OperationalError` with the driver's `DeadlockDetected` as `__cause__`)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        code = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if code in TRANSIENT_SQLSTATES:
            return True
        current = current.__cause__ or current.__context__
    return False


R = TypeVar("R")


def atomic_retrying(
    fn: Callable[..., R],
    *args: Any,
    what: str,
    attempts: int = RETRY_ATTEMPTS,
    on_retry: Callable[[BaseException], None] | None = None,
) -> R:
    """Run `fn(*args)` in a transaction; when it is aborted by a deadlock or serialization failure,
    run it again in a new one, up to `attempts` times with a short backoff (decision 0112).

    Everything the failed attempt wrote was rolled back with it (a savepoint when called inside an
    outer transaction: PostgreSQL releases the locks taken after it), so the retry applies the
    batch exactly once. Other errors, and the last transient one, are raised."""
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic():
                return fn(*args)
        except DatabaseError as exc:
            if attempt >= attempts or not is_transient(exc):
                raise
            delay = RETRY_BACKOFF_SECONDS * 2 ** (attempt - 1) * (0.5 + random.random())
            log.warning(
                "%s: transaction aborted (%s), attempt %d of %d; retrying in %.0f ms",
                what,
                str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                attempt,
                attempts,
                delay * 1000,
            )
            if on_retry is not None:
                on_retry(exc)
            time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


# --- Decisions ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Decision:
    """Base class of everything a rule may decide."""


@dataclass(frozen=True, slots=True)
class UpdateDeviceState(Decision):
    """Refresh a device's latest state from one event (only fields that are not None)."""

    device_pk: int
    seen_at: datetime
    position: tuple[float, float, bool, datetime] | None = None  # lat, lon, valid, time
    battery_pct: int | None = None
    signal_pct: int | None = None
    steps: int | None = None


@dataclass(frozen=True, slots=True)
class RecordLifeSign(Decision):
    """The person (not only the device) showed they are alive at `occurred_at` (S04–S06, Q1)."""

    device_pk: int
    occurred_at: datetime
    source: str  # LifeSignSource value
    event_id: int | None = None


@dataclass(frozen=True, slots=True)
class RaiseAlarm(Decision):
    """An alarm to raise; applied by the alarm centre's applier (pingantong.alarms)."""

    alarm_type: str
    event_id: int
    device_pk: int | None
    device_identity: str
    protocol: str
    client_id: Any
    unbound: bool
    occurred_at: datetime
    extra: dict[str, Any] = field(default_factory=dict)


# --- Context -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeviceRef:
    """The registry facts rules need about a device, read in one query per batch (no ORM objects:
    the ingest path handles thousands of frames a second). `client` loads the Client on demand."""

    pk: int
    identity: str
    client_id: Any
    region_id: str
    device_type_id: str
    proves_person: bool
    tz_offset_minutes: int

    FIELDS: ClassVar[tuple[str, ...]] = (
        "pk",
        "identity",
        "client_id",
        "region_id",
        "device_type_id",
        "device_type__proves_person",
        "tz_offset_minutes",
    )

    @property
    def id(self) -> int:
        return self.pk

    @property
    def client(self) -> Any:
        if self.client_id is None:
            return None
        from pingantong.clients.models import Client

        return Client.objects.filter(pk=self.client_id).first()

    @classmethod
    def of(cls, device: Any) -> DeviceRef:
        return cls(
            device.pk,
            device.identity,
            device.client_id,
            device.region_id,
            device.device_type_id,
            device.device_type.proves_person,
            device.tz_offset_minutes,
        )


@dataclass(frozen=True, slots=True)
class RuleContext:
    """What a rule may know besides the event: the stored event id, the registry row (None for a
    terminal not in the registry), and what the engine remembers of the device."""

    event_id: int
    received_at: datetime
    protocol: str
    device_identity: str
    device: DeviceRef | None = None
    previous_steps: int | None = None
    gateway_node: str = ""

    @property
    def device_pk(self) -> int | None:
        return self.device.pk if self.device is not None else None

    @property
    def client_id(self) -> Any:
        return getattr(self.device, "client_id", None) if self.device is not None else None

    @property
    def client(self) -> Any:
        return getattr(self.device, "client", None) if self.device is not None else None

    @property
    def unbound(self) -> bool:
        """True for unknown terminals and for registered ones not bound to a client."""
        return self.client_id is None

    @property
    def proves_person(self) -> bool:
        return bool(self.device is not None and self.device.proves_person)


@dataclass(slots=True)
class StoredEvent:
    """One committed event on its way to the rules."""

    event: DeviceEvent
    event_id: int
    received_at: datetime
    device: DeviceRef | None = None
    gateway_node: str = ""


# --- The batch being evaluated ---------------------------------------------------------------------

_BATCH: ContextVar[tuple[list[StoredEvent], dict[str, Any]] | None] = ContextVar("rules_batch", default=None)


def batch_items() -> list[StoredEvent]:
    """The events of the batch whose rules are running (empty outside a batch): a rule that needs a
    read per event may make it once for the whole batch (decision 0113)."""
    current = _BATCH.get()
    return current[0] if current is not None else []


def batch_memo() -> dict[str, Any] | None:
    """A dict that lives as long as the rules of the current batch run (None outside a batch)."""
    current = _BATCH.get()
    return current[1] if current is not None else None


# --- Registry ----------------------------------------------------------------------------------

Rule = Callable[[DeviceEvent, RuleContext], Sequence[Decision]]
D = TypeVar("D", bound=Decision)


@dataclass(slots=True)
class _Applier:
    fn: Callable[[Any], None]
    batch: bool


_RULES: list[Rule] = []
_APPLIERS: dict[type[Decision], list[_Applier]] = defaultdict(list)


def register_rule(fn: Rule) -> Rule:
    """Add a rule (idempotent, so apps may register in ready() that can run twice)."""
    if fn not in _RULES:
        _RULES.append(fn)
    return fn


def register_applier(
    decision_type: type[D] | tuple[type[Decision], ...], fn: Callable[..., None], *, batch: bool = False
) -> None:
    """Register how decisions of `decision_type` are applied; `batch=True` gets a list per batch.

    With a tuple of types, one applier takes the decisions of all of them (a batch applier gets
    them in one list, in the order the rules made them) and applies them in one transaction:
    the devices app's state and life signs, which write the same rows (decision 0135)."""
    types = decision_type if isinstance(decision_type, tuple) else (decision_type,)
    applier = next((a for t in types for a in _APPLIERS[t] if a.fn is fn), None) or _Applier(fn, batch)
    for t in types:
        if applier not in _APPLIERS[t]:
            _APPLIERS[t].append(applier)


def registered_rules() -> list[Rule]:
    return list(_RULES)


def unregister(fn: Callable[..., Any]) -> None:
    """Remove a rule or applier (tests)."""
    if fn in _RULES:
        _RULES.remove(fn)
    for appliers in _APPLIERS.values():
        appliers[:] = [a for a in appliers if a.fn is not fn]


# --- Engine ------------------------------------------------------------------------------------


URGENT_ALARMS: frozenset[str] = frozenset({"sos", "fall", "smoke", "gas"})
"""Alarm kinds that jump the rules stage's backlog (S01, decision 0113): the alarm centre's
priority-1 types — a call for help, a fall, fire, gas — where seconds of queueing behind ordinary
positions are seconds of someone's emergency. Not `removed`, geofence or vitals (priority 2-3:
they wait their turn like any event), nor signals."""

RETRY_FIRST_SECONDS = 1.0
RETRY_MAX_SECONDS = 60.0
"""A failed applier's decisions are applied again after 1 s, doubling up to once a minute, for as
long as it takes; their events stay unprocessed meanwhile (decision 0113)."""


def is_urgent(event: DeviceEvent) -> bool:
    """True for an event carrying an alarm of `URGENT_ALARMS` (the rules' priority lane)."""
    alarms = event.alarms
    return bool(alarms) and not URGENT_ALARMS.isdisjoint(alarms)


@dataclass(slots=True)
class _Failed:
    """One event's decisions whose applier failed (after its transient retries), kept to be applied
    again; the event is marked processed only once all of them are applied."""

    pending: list[tuple[_Applier, Decision]]
    attempts: int = 1
    next_at: float = 0.0
    gateway_node: str = ""


class RulesEngine:
    """Runs every rule on every event in order, then every applier; marks the events processed.

    Two extra paths keep a call for help from waiting (S01, decision 0113):
    - `process_urgent(items)` runs the urgent events of `items` (`is_urgent`) at once, out of
      order, ahead of any backlog; `process` later skips them (they are remembered here, and in the
      rules process taken off the rules queue before the backlog is read). Processing them early is
      safe because the device-state appliers only move facts forward (an older event processed
      later does not overwrite the SOS's position, battery, signal, steps or life sign);
    - an applier that fails after its transient retries does not lose its decisions: their events
      stay unprocessed and the decisions are applied again with a growing pause
      (`retry_failed`, also called at each `process`), so a stored SOS is never silently dropped.
    """

    def __init__(self) -> None:
        self.steps: dict[int, int] = {}  # last steps count per device, to see movement
        self.rule_failures = 0
        self.applier_failures = 0
        self.transient_retries = 0  # deadlocks / serialization failures retried (decision 0112)
        self.processed = 0
        self.urgent_processed = 0  # events run ahead of the backlog by the priority lane
        self.failed_retries = 0  # applications of failed decisions tried again
        self._lock = threading.Lock()
        self._early: set[int] = set()  # urgent events the lane ran that `process` has not yet seen
        self._taken: set[int] = set()  # urgent events inside a batch `process` is running
        self._failed: dict[int, _Failed] = {}  # event id -> decisions to apply again

    # -- the in-order path -----------------------------------------------------------------

    def process(self, stored: Iterable[StoredEvent]) -> list[Decision]:
        items = list(stored)
        urgent: list[int] = []
        if self._early or self._failed:
            with self._lock:
                skip = self._early | self._failed.keys()
                self._early.difference_update(i.event_id for i in items)
            items = [i for i in items if i.event_id not in skip]
        for item in items:
            if item.event.alarms and is_urgent(item.event):
                urgent.append(item.event_id)
        if urgent:
            with self._lock:
                self._taken.update(urgent)
        try:
            if self._failed:
                self.retry_failed()
            return self._run(items, in_order=True)
        finally:
            if urgent:
                with self._lock:
                    self._taken.difference_update(urgent)

    # -- the priority lane (S01) --------------------------------------------------------------

    def process_urgent(self, stored: Iterable[StoredEvent], *, remember: bool = True) -> list[StoredEvent]:
        """Run the urgent events among `stored` now, ahead of whatever backlog `process` has not
        reached yet; returns those it ran. With `remember` (the rules thread's mode, where the same
        events will also reach `process`), `process` skips them later; the rules process passes
        False, since it marks them processed before it reads the backlog again."""
        with self._lock:
            chosen = [
                i
                for i in stored
                if i.event.alarms
                and is_urgent(i.event)
                and i.event_id not in self._taken
                and i.event_id not in self._early
                and i.event_id not in self._failed
            ]
            if remember:
                self._early.update(i.event_id for i in chosen)
        if chosen:
            try:
                self._run(chosen, in_order=False)
            except BaseException:
                # Not run (the database failed before the appliers): leave them to `process`.
                if remember:
                    with self._lock:
                        self._early.difference_update(i.event_id for i in chosen)
                raise
            self.urgent_processed += len(chosen)
        return chosen

    # -- shared ---------------------------------------------------------------------------------

    def _run(self, items: list[StoredEvent], *, in_order: bool) -> list[Decision]:
        decisions: list[Decision] = []
        origins: list[int] = []
        rules = list(_RULES)
        token = _BATCH.set((items, {}))
        try:
            self._evaluate(items, rules, decisions, origins, in_order=in_order)
        finally:
            _BATCH.reset(token)
        from pingantong.gateway.ingest.writelock import writer_turn

        def done(failed: dict[int, Any]) -> list[StoredEvent]:
            return [i for i in items if i.event_id not in failed] if failed else items

        def dequeue(failed: dict[int, Any]) -> None:
            self._mark_processed(_by_node((i.gateway_node, i.event_id) for i in done(failed)))

        with writer_turn():  # SQLite: take turns with the ingest writer without sleeping
            failed, dequeued = self._apply_tracked(decisions, origins, finish=dequeue)
            if not dequeued:
                dequeue(failed)
        if failed:
            self._remember_failed(failed, {i.event_id: i.gateway_node for i in items})
        self.processed += len(done(failed))
        return decisions

    def _evaluate(
        self,
        items: list[StoredEvent],
        rules: list[Rule],
        decisions: list[Decision],
        origins: list[int],
        *,
        in_order: bool,
    ) -> None:
        for item in items:
            ctx = self._context(item)
            for rule in rules:
                try:
                    out = rule(item.event, ctx)
                except Exception:
                    self.rule_failures += 1
                    log.exception(
                        "rule %s failed on event %s", getattr(rule, "__name__", rule), item.event_id
                    )
                    continue
                if out:
                    decisions.extend(out)
                    origins.extend([item.event_id] * len(out))
            # Only the in-order path moves the step baseline: an SOS run early must not make the
            # older reports behind it look like no movement.
            if (
                in_order
                and ctx.device_pk is not None
                and item.event.steps is not None
                and not item.event.archived
            ):
                self.steps[ctx.device_pk] = item.event.steps

    def _context(self, item: StoredEvent) -> RuleContext:
        device = item.device
        return RuleContext(
            event_id=item.event_id,
            received_at=item.received_at,
            protocol=item.event.protocol,
            device_identity=item.event.device_id,
            device=device,
            previous_steps=self.steps.get(device.pk) if device is not None else None,
            gateway_node=item.gateway_node,
        )

    def apply(self, decisions: Sequence[Decision]) -> None:
        """Apply decisions (each applier in its own retried transaction); failures are logged and
        counted (callers outside the engine's batches: tests, tools)."""
        self._apply_tracked(decisions, [None] * len(decisions))

    def _apply_tracked(
        self,
        decisions: Sequence[Decision],
        origins: Sequence[int | None],
        *,
        finish: Callable[[dict[int, Any]], None] | None = None,
    ) -> tuple[dict[int, list[tuple[_Applier, Decision]]], bool]:
        """Apply, and return per event id the (applier, decision) pairs that failed.

        `finish(failed)`, when given, runs inside the last applier's transaction, after it, with
        the failures of the appliers before it: the rules stage takes its batch off the queue
        there, so a batch of positions costs one COMMIT instead of two (decision 0135). If that
        transaction fails, `finish` is rolled back with it; the second value returned says whether
        it committed (the caller then runs it alone, with the failures complete)."""
        calls: dict[int, tuple[_Applier, list[tuple[Decision, int | None]]]] = {}
        for decision, origin in zip(decisions, origins, strict=True):
            appliers = _APPLIERS.get(type(decision))
            if not appliers:
                log.debug("no applier for %s", type(decision).__name__)
                continue
            for applier in appliers:
                calls.setdefault(id(applier), (applier, []))[1].append((decision, origin))
        chunks = [
            (applier, chunk)
            for applier, pairs in calls.values()
            for chunk in ([pairs] if applier.batch else [[pair] for pair in pairs])
        ]
        failed: dict[int, list[tuple[_Applier, Decision]]] = {}
        finished = False
        for n, (applier, chunk) in enumerate(chunks, 1):
            then = None
            if finish is not None and n == len(chunks):
                then = functools.partial(finish, dict(failed))
            if self._apply_one(applier, [d for d, _o in chunk], then=then):
                finished = then is not None
            else:
                for d, origin in chunk:
                    if origin is not None:
                        failed.setdefault(origin, []).append((applier, d))
        return failed, finished

    def _apply_one(
        self, applier: _Applier, decisions: list[Decision], *, then: Callable[[], None] | None = None
    ) -> bool:
        """Apply in a retried transaction; False when the applier failed. An error of `then` (the
        batch's dequeue) rolls the applier back too and is raised: it is the rules stage's failure,
        not the applier's, and the whole batch stays queued to be run again."""
        name = getattr(applier.fn, "__name__", applier.fn)
        arg = decisions if applier.batch else decisions[0]
        applied = False

        def apply() -> None:
            nonlocal applied
            applied = False
            applier.fn(arg)
            applied = True
            if then is not None:
                then()

        try:
            atomic_retrying(apply, what=f"applier {name}", on_retry=self._retried)
        except Exception:
            if applied:
                raise
            self.applier_failures += 1
            log.exception("applier %s failed; its events stay unprocessed and it is tried again", name)
            return False
        return True

    def _retried(self, exc: BaseException) -> None:
        self.transient_retries += 1

    def _remember_failed(
        self, failed: dict[int, list[tuple[_Applier, Decision]]], nodes: dict[int, str]
    ) -> None:
        due = time.monotonic() + RETRY_FIRST_SECONDS
        with self._lock:
            for event_id, pending in failed.items():
                self._failed[event_id] = _Failed(pending, 1, due, nodes.get(event_id, ""))

    def has_failed(self) -> bool:
        return bool(self._failed)

    def retry_failed(self, *, force: bool = False) -> int:
        """Apply again the failed decisions whose pause is over (all with `force`); mark the events
        whose decisions are now all applied. Returns how many events were completed."""
        if not self._failed:
            return 0
        now = time.monotonic()
        with self._lock:
            due = {k: v for k, v in self._failed.items() if force or v.next_at <= now}
        if not due:
            return 0
        # Group per applier, so that a batch applier gets one list again.
        per_applier: dict[int, tuple[_Applier, list[tuple[Decision, int]]]] = {}
        for event_id, entry in due.items():
            for applier, decision in entry.pending:
                per_applier.setdefault(id(applier), (applier, []))[1].append((decision, event_id))
        still: dict[int, list[tuple[_Applier, Decision]]] = {}
        from pingantong.gateway.ingest.writelock import writer_turn

        with writer_turn():
            for applier, pairs in per_applier.values():
                chunks = [pairs] if applier.batch else [[pair] for pair in pairs]
                for chunk in chunks:
                    self.failed_retries += 1
                    if not self._apply_one(applier, [d for d, _e in chunk]):
                        for d, event_id in chunk:
                            still.setdefault(event_id, []).append((applier, d))
            completed = [event_id for event_id in due if event_id not in still]
            self._mark_processed(_by_node((due[event_id].gateway_node, event_id) for event_id in completed))
        with self._lock:
            for event_id in completed:
                self._failed.pop(event_id, None)
            for event_id, pending in still.items():
                entry = self._failed[event_id]
                entry.pending = pending
                entry.attempts += 1
                pause = min(RETRY_MAX_SECONDS, RETRY_FIRST_SECONDS * 2 ** (entry.attempts - 1))
                entry.next_at = time.monotonic() + pause
                log.error(
                    "event %s: %d decision(s) still not applied after %d attempts; next in %.0f s",
                    event_id,
                    len(pending),
                    entry.attempts,
                    pause,
                )
        self.processed += len(completed)
        return len(completed)

    @staticmethod
    def _mark_processed(by_node: dict[str, list[int]]) -> None:
        """Take the events off the rules queue (`UnprocessedEvent`, decision 0132): one DELETE
        per node and 900 ids in plain SQL (the ORM's `pk__in` of a 1,000-event batch cost as much
        as the rules themselves)."""
        from pingantong.gateway.ingest.consumer import dequeue

        for node, ids in by_node.items():
            dequeue(node, ids)


def _by_node(pairs: Iterable[tuple[str, int]]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for node, event_id in pairs:
        out.setdefault(node, []).append(event_id)
    return out


def recover_unprocessed(engine: RulesEngine, *, gateway_node: str, limit: int = 5000) -> int:
    """Run the rules on events this node stored but did not process (a crash after commit): the
    rules process's own reading of the backlog (oldest id first, its urgent alarms first),
    applied here in-thread."""
    from pingantong.gateway.ingest.consumer import RulesConsumer

    backlog = RulesConsumer(gateway_node, engine, batch=limit)
    total = backlog.run_lane()
    while items := backlog.pending():
        engine.process(items)
        total += len(items)
    return total
