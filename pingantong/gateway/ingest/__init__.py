"""Durable ingest: frames and their events are committed before the device is acknowledged.

Listeners (TCP, MQTT, webhook) `await ingestor.submit(frames)`; the call returns only after the
rows are committed, and raises `StorageError` when they were not, in which case the caller sends
no reply (the device resends; ARCHITECTURE.md §2). Submissions from every connection are group
committed: while one batch is being written by the single writer thread, new frames queue up and
go into the next batch (one `transaction.atomic` each, at most `max_batch` frames), so the cost of
a commit (an fsync) is shared by hundreds of messages at load and costs no wait at idle.

One writer thread keeps SQLite to one writer (it allows no more) and keeps batches in commit
order; committed batches are handed, in that order, to the rules stage (pipeline thread), which
is what keeps each device's events in order. Nothing is deduplicated here: every SOS frame is a
row, even a resend (the alarm rules decide what is the same call for help).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections

from pingantong.gateway import priority
from pingantong.gateway.ingest import dbconn
from pingantong.gateway.ingest.consumer import RulesProcess
from pingantong.gateway.ingest.dbconn import keep_connection
from pingantong.gateway.ingest.journal import UrgentJournal, already_stored
from pingantong.gateway.ingest.store import (
    one_statement,
    retry_locked,
    store_batch,
    store_in_one_statement,
    store_in_turn,
)
from pingantong.gateway.ingest.types import FrameIn, Stored
from pingantong.gateway.ingest.writelock import writer_turn
from pingantong.gateway.ingest.writerproc import PartlyStored, WriterProcess
from pingantong.gateway.pipeline import RulesEngine, StoredEvent, is_urgent

__all__ = [
    "FrameIn",
    "Ingestor",
    "StorageError",
    "Stored",
    "rules_mode",
    "store_batch",
    "writer_mode",
]

log = logging.getLogger("pingantong.gateway.ingest")

SQLITE_RULES_CHUNK = 250
CHECKPOINT_SECONDS = 1.0
"""SQLite: how often the checkpointer thread copies the write-ahead log into the database."""
WAL_RESTART_PAGES = 25_000
"""SQLite: a log longer than this (pages, ~100 MB) is restarted from its beginning (decision 0126)."""
RESTART_BUSY_MS = 10
"""How long the restarting checkpoint waits for readers, holding the writers' turn, before trying
again a second later (decision 0127: at 200 ms an SOS could wait that long behind it)."""
RESTART_BUSY_LONG_MS = 200
"""… and how long after three restarts in a row found readers, or once the log is four times past
`WAL_RESTART_PAGES`."""
CATCH_UP_PASSES = 5
"""Before a restart, at most this many rounds of copying the log and flushing the database file
outside the writers' turn (decision 0129) …"""
CATCH_UP_SETTLED_SECONDS = 0.01
"""… stopping once a flush took less than this (little was left to write)."""


class StorageError(RuntimeError):
    """The batch holding these frames was not committed: do not acknowledge them."""


StoreFn = Callable[[Sequence[FrameIn], str], tuple[list[Stored], list[StoredEvent]]]


@dataclass
class IngestMetrics:
    batches: int = 0
    frames_stored: int = 0
    events_stored: int = 0
    storage_failures: int = 0
    largest_batch: int = 0
    store_seconds: float = 0.0
    rules_seconds: float = 0.0
    write_turn_wait_seconds: float = 0.0
    """SQLite: time the writer waited for its turn at the write lock (the rules stage's turns)."""
    write_turn_wait_max: float = 0.0
    """SQLite: the longest one batch waited for its turn."""
    wal_checkpoints: int = 0
    """SQLite: checkpoints run by the ingestor's checkpointer (not inside the writer's commits)."""
    wal_pages_max: int = 0
    """SQLite: the longest the write-ahead log was (pages) when the checkpointer looked."""
    wal_restarts: int = 0
    """SQLite: times the checkpointer restarted the log from its beginning (decision 0126)."""
    wal_restart_seconds_max: float = 0.0
    """SQLite: the longest a restart held the gateway writers' turn."""
    journaled: int = 0
    """SQLite: urgent submissions acknowledged from the urgent journal (decision 0130)."""
    journal_failures: int = 0
    """… that the journal could not take (acknowledged after the database's commit instead)."""
    journal_replayed: int = 0
    """… entries stored again from the journal (left by a failed store or a stopped process)."""


def shares_writer_thread() -> bool:
    """In-memory SQLite (the test database) fails at once on lock contention between threads
    instead of waiting (shared-cache locking ignores busy_timeout): there, every gateway database
    call runs on the writer thread. A file database in WAL mode waits on busy_timeout instead."""
    return connection.vendor == "sqlite" and bool(connection.is_in_memory_db())  # type: ignore[attr-defined]


def urgent_journal_wanted(requested: bool | None = None) -> bool:
    """Whether urgent submissions are acknowledged from the urgent journal (decision 0130): on a
    SQLite database file, unless the setting or environment `PINGANTONG_GATEWAY_URGENT_JOURNAL`
    is "0" (PostgreSQL takes many writers: an SOS's insert does not wait for a write lock there)."""
    from django.conf import settings

    if connection.vendor != "sqlite" or shares_writer_thread():
        return False
    if requested is not None:
        return requested
    configured = getattr(settings, "PINGANTONG_GATEWAY_URGENT_JOURNAL", "")
    return str(os.environ.get("PINGANTONG_GATEWAY_URGENT_JOURNAL") or configured or "1") != "0"


def rules_mode() -> str:
    """Where the rules stage runs: "thread" (in the gateway's process, the default) or "process"
    (a child process consuming committed events, decision 0094). Setting or environment
    `PINGANTONG_GATEWAY_RULES`; in-memory SQLite cannot be shared with a process, so "thread" there."""
    from django.conf import settings

    configured = getattr(settings, "PINGANTONG_GATEWAY_RULES", "")
    mode = str(os.environ.get("PINGANTONG_GATEWAY_RULES") or configured or "thread")
    if mode not in ("thread", "process"):
        raise ValueError(f"PINGANTONG_GATEWAY_RULES must be thread or process, not {mode!r}")
    return "thread" if shares_writer_thread() else mode


def writer_mode(rules: str, requested: str | None = None) -> str:
    """Where the ingest writer runs: "thread" or "process" (decision 0125), from the setting or
    environment `PINGANTONG_GATEWAY_WRITER`; unset, it follows the rules stage (a process when the
    rules run in one). A writer process needs the rules in a process as well (the rules thread is
    handed the stored events in memory); in-memory SQLite cannot be shared with a process, so
    "thread" there."""
    from django.conf import settings

    configured = getattr(settings, "PINGANTONG_GATEWAY_WRITER", "")
    default = "process" if rules == "process" else "thread"
    mode = str(requested or os.environ.get("PINGANTONG_GATEWAY_WRITER") or configured or default)
    if mode not in ("thread", "process"):
        raise ValueError(f"PINGANTONG_GATEWAY_WRITER must be thread or process, not {mode!r}")
    if shares_writer_thread():
        return "thread"
    if mode == "process" and rules != "process":
        raise ValueError("PINGANTONG_GATEWAY_WRITER=process needs PINGANTONG_GATEWAY_RULES=process")
    return mode


URGENT_IN_FLIGHT = 4
"""Urgent batches being stored at once, with a writer process (decision 0128): on its urgent pipe
(SQLite), or by as many `ingest-urgent` threads (PostgreSQL, decision 0141). One at a time, an SOS
arriving while another was being stored waited for it to be committed and answered: 38 ms at p90,
83 ms at p99 of the SOS frame→ACK time at 4,000 msg/s on a slow host."""

SETTLE_SLICE = 100
"""Submissions told their outcome (their ACKs written) per turn of the event loop. A batch of 1,000
settled in one callback held the loop for 20-40 ms, while an SOS committed beside it on the urgent
pipe waited to be settled and no socket was read (docs/gateway.md, "Where an SOS's milliseconds
go")."""

JOURNAL_RETRY_SECONDS = 2.0
"""After a journaled submission failed to reach the database, the pause before it is stored again."""
JOURNAL_ATTEMPTS = 5
"""A journal entry the database refused this many times is left in the journal (logged) until the
next start, instead of being tried every few seconds for ever."""
ORPHAN_SCAN_SECONDS = 60.0
"""How often the ingestor looks for journals whose gateway process died (and stores their entries)."""

INGESTORS: dict[str, Ingestor] = {}
"""The running ingestors of this process by node (for the metrics endpoint)."""


class Ingestor:
    """The group-commit batcher shared by every listener of one gateway process."""

    def __init__(
        self,
        *,
        node: str,
        max_batch: int = 1000,
        urgent_batch: int = 64,
        linger: float = 0.0,
        store: StoreFn = store_batch,
        engine: RulesEngine | None = None,
        separate_rules_thread: bool | None = None,
        rules: str | None = None,
        writer: str | None = None,
        journal: bool | None = None,
    ) -> None:
        self.node = node
        self.max_batch = max_batch
        self.urgent_batch = urgent_batch
        self.linger = linger
        self.store = store
        self.engine = engine if engine is not None else RulesEngine()
        self.metrics = IngestMetrics()
        self._pending: deque[tuple[Sequence[FrameIn], Callable[..., None]]] = deque()
        self._urgent: deque[tuple[Sequence[FrameIn], Callable[..., None]]] = deque()
        self._wake = asyncio.Event()
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="ingest-writer")
        # With a writer process, urgent submissions go to it from a thread of their own, beside
        # the batch in flight (decision 0127); without, they lead the next batch.
        self._urgent_wake = asyncio.Event()
        self._urgent_task: asyncio.Task | None = None
        self._urgent_pool: ThreadPoolExecutor | None = None
        self._urgent_batches: set[asyncio.Future] = set()
        self._urgent_here = False
        """PostgreSQL with a writer process: the `ingest-urgent` threads store urgent batches
        themselves, each on a connection of its own (decision 0141)."""
        self._urgent_connections: list[Any] = []
        """Those threads' connections, closed at `stop`."""
        self.urgent_ready: deque[tuple[list[Any], asyncio.Future, list[Any]]] = deque()
        """Urgent batches an `ingest-urgent` thread stored and the loop has not settled yet: the
        listeners settle them at their next read (`settle_urgent`, decision 0143), not after the
        loop's pass of reads ends."""
        self._metrics_lock = threading.Lock()
        # The rules stage has its own thread, so a slow applier (an alarm and its cascade) never
        # holds up acknowledgements; see `shares_writer_thread` for the one exception.
        if separate_rules_thread is None:
            separate_rules_thread = os.environ.get("PINGANTONG_GATEWAY_RULES_THREAD", "1") != "0"
        self._rules = (
            self._writer
            if shares_writer_thread() or not separate_rules_thread
            else ThreadPoolExecutor(1, thread_name_prefix="rules")
        )
        # S01 (decision 0113): urgent events (SOS, fall, smoke, gas) run at once in a thread of
        # their own, ahead of the rules thread's queue, which skips them when it reaches them.
        self._lane = (
            self._rules
            if self._rules is self._writer
            else ThreadPoolExecutor(1, thread_name_prefix="rules-lane")
        )
        self._task: asyncio.Task | None = None
        self._closing = False
        self._checkpointer: asyncio.Task | None = None
        self.rules_mode = rules or rules_mode()
        if self.rules_mode == "process" and shares_writer_thread():
            self.rules_mode = "thread"
        self.rules_process: RulesProcess | None = None
        self._watchdog: asyncio.Task | None = None
        # Only with the ordinary store: a custom `store` (tests) runs in the writer thread.
        self.writer_mode = writer_mode(self.rules_mode, writer) if store is store_batch else "thread"
        self.writer_process: WriterProcess | None = None
        # SQLite: urgent submissions are acknowledged from a journal of their own (decision 0130).
        self.journal_wanted = store is store_batch and urgent_journal_wanted(journal)
        self.journal: UrgentJournal | None = None
        """The journal slot this process owns while it runs (`start`)."""
        self._journal_pool: ThreadPoolExecutor | None = None
        self._journal_in_flight: set[int] = set()
        """Entries whose submission is on its way to the database (never replayed meanwhile)."""
        self._journal_attempts: dict[int, int] = {}
        """Entries the database did not take, and how many times."""
        self._journal_retry = asyncio.Event()
        self._journal_task: asyncio.Task | None = None

    def stats(self) -> dict[str, Any]:
        """The ingest counters (metrics endpoint, benchmark); in process mode the rules process's
        counters as of its last drain."""
        out: dict[str, Any] = dict(vars(self.metrics))
        out["rules_mode"] = self.rules_mode
        out["writer_mode"] = self.writer_mode
        if self.writer_process is not None:
            out["writer_process_cpu_seconds"] = round(self.writer_process.cpu_seconds, 3)
            out["writer_process_restarts"] = self.writer_process.restarts
        if self.rules_process is not None:
            out.update(self.rules_process.last_stats)
            out["rules_process_restarts"] = self.rules_process.restarts
        return out

    @property
    def db_executor(self) -> ThreadPoolExecutor:
        """The writer thread, for other gateway DB work on SQLite (one writer, no lock waits)."""
        return self._writer

    async def start(self) -> None:
        dbconn.random_page_cost()  # a wrong value fails here, not in each child (decision 0133)
        priority.bulk_nice()  # the same (decision 0137)
        if self.rules_mode == "process" and self.rules_process is None:
            self.rules_process = RulesProcess(self.node)
            await asyncio.get_running_loop().run_in_executor(None, self.rules_process.start)
            self._watchdog = asyncio.create_task(self._watch_rules_process(), name="rules-watchdog")
        if self.writer_mode == "process" and self.writer_process is None:
            self.writer_process = WriterProcess(self.node)
            await asyncio.get_running_loop().run_in_executor(None, self.writer_process.start)
            self._urgent_here = connection.vendor == "postgresql"
            self._urgent_pool = ThreadPoolExecutor(
                URGENT_IN_FLIGHT,
                thread_name_prefix="ingest-urgent",
                initializer=self._adopt_urgent_connection if self._urgent_here else None,
            )
            self._urgent_task = asyncio.create_task(self._run_urgent(), name="ingest-urgent")
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="ingest")
            INGESTORS[self.node] = self
        if self.journal_wanted and self._journal_task is None:
            try:
                self.journal = UrgentJournal.claim(str(connection.settings_dict["NAME"]))
            except Exception:
                log.exception("no urgent journal: SOS frames are acknowledged after the database's commit")
            else:
                self._journal_pool = ThreadPoolExecutor(1, thread_name_prefix="ingest-journal")
                self._journal_task = asyncio.create_task(self._replay_journal(), name="urgent-journal")
        if self._checkpointer is None and connection.vendor == "sqlite" and not shares_writer_thread():
            dbconn.checkpointer_started()  # before the writer's first connection is opened
            self._checkpointer = asyncio.create_task(self._checkpoint_wal(), name="wal-checkpoint")

    async def _checkpoint_wal(self) -> None:
        """SQLite: copy the write-ahead log into the database from a thread of its own.

        By default the connection whose commit pushes the log past 1,000 pages runs the checkpoint
        inside that commit; for the ingest writer that put 10-20 ms (and the checkpoint's fsync)
        into one batch in every few, on the path to the ACKs and in front of any SOS waiting for
        the next batch. While this task runs, this process's connections and the rules process's
        have automatic checkpoints off (`dbconn`), and it runs a PASSIVE checkpoint every
        `CHECKPOINT_SECONDS`: it never takes the write lock and runs beside the writers (SQLite
        releases the GIL while it works). Other processes (web, worker) keep SQLite's default."""
        loop = asyncio.get_running_loop()
        pool = ThreadPoolExecutor(1, thread_name_prefix="wal-checkpoint")
        missed = 0  # restarts in a row that found readers in the log
        try:
            while not self._closing:
                await asyncio.sleep(CHECKPOINT_SECONDS)
                try:
                    log_pages = await loop.run_in_executor(pool, _checkpoint_passive)
                    self.metrics.wal_checkpoints += 1
                    self.metrics.wal_pages_max = max(self.metrics.wal_pages_max, log_pages)
                    if log_pages > WAL_RESTART_PAGES:
                        patient = missed >= 3 or log_pages > 4 * WAL_RESTART_PAGES
                        restarted, held = await loop.run_in_executor(pool, _restart_log, patient)
                        missed = 0 if restarted else missed + 1
                        self.metrics.wal_restarts += restarted
                        self.metrics.wal_restart_seconds_max = max(self.metrics.wal_restart_seconds_max, held)
                except Exception:
                    log.exception("WAL checkpoint failed; SQLite's next automatic one will do it")
        finally:
            dbconn.checkpointer_stopped()
            await loop.run_in_executor(pool, _close_connection)
            pool.shutdown(wait=False)

    async def _watch_rules_process(self) -> None:
        """Restart the rules process if it dies; the new one resumes at the oldest unprocessed event."""
        loop = asyncio.get_running_loop()
        while self.rules_process is not None:
            await asyncio.sleep(1.0)
            if self.rules_process is not None:
                await loop.run_in_executor(None, self.rules_process.ensure_running)

    async def stop(self) -> None:
        self._closing = True
        INGESTORS.pop(self.node, None)
        loop = asyncio.get_running_loop()
        self._wake.set()
        self._urgent_wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self._urgent_task is not None:
            await self._urgent_task
            self._urgent_task = None
        if self._journal_task is not None:
            self._journal_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._journal_task
            self._journal_task = None
        if self._journal_pool is not None and self.journal is not None:
            journal, pool, self._journal_pool = self.journal, self._journal_pool, None
            await loop.run_in_executor(pool, _close_connection)
            await loop.run_in_executor(pool, journal.release)
            pool.shutdown(wait=True)
            self.journal = None
        if self._checkpointer is not None:
            self._checkpointer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checkpointer
            self._checkpointer = None
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
            self._watchdog = None
        if self.writer_process is not None:
            writer, self.writer_process = self.writer_process, None
            await loop.run_in_executor(self._writer, writer.stop)  # after the last batch
        if self._urgent_pool is not None:
            self._urgent_pool.shutdown(wait=True)
            self._urgent_pool = None
        if self._urgent_connections:  # their threads are gone
            await loop.run_in_executor(None, self._close_urgent_connections)
        if self.rules_process is not None:
            process, self.rules_process = self.rules_process, None
            await loop.run_in_executor(None, process.stop)
        await loop.run_in_executor(self._writer, _close_connection)
        if self._lane is not self._rules:
            await loop.run_in_executor(self._lane, _close_connection)
            self._lane.shutdown(wait=True)
        if self._rules is not self._writer:
            await loop.run_in_executor(self._rules, _close_connection)
            self._rules.shutdown(wait=True)
        self._writer.shutdown(wait=True)

    async def submit(self, frames: Sequence[FrameIn]) -> list[Stored]:
        """Store `frames` (in one batch, in order); returns after commit or raises StorageError."""
        return await self.submit_nowait(frames)  # type: ignore[no-any-return]

    def submit_nowait(self, frames: Sequence[FrameIn]) -> asyncio.Future:
        """`submit` without a coroutine: a future that gets the `Stored` list after commit, or a
        StorageError."""
        future: asyncio.Future = asyncio.get_running_loop().create_future()

        def settle(outcome: list[Stored] | Exception) -> None:
            if future.done():
                return
            if isinstance(outcome, Exception):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

        self.submit_callback(frames, settle)
        return future

    def submit_callback(
        self,
        frames: Sequence[FrameIn],
        done: Callable[[list[Stored] | Exception], None],
        journaled: Callable[[], None] | None = None,
    ) -> None:
        """The listeners' path: `done(stored)` — or `done(StorageError)` when the frames were not
        committed — is called on the event loop right after the commit, without a future and a
        scheduled callback per submission (10,000 of each a second).

        `journaled()`, if given, is called for an urgent submission as soon as it is durable in
        the urgent journal (SQLite, decision 0130), before the database has it: the caller may
        acknowledge the device then. `done` still follows the database's commit; if that fails,
        the entry stays in the journal and is stored again, so `done(StorageError)` after
        `journaled()` loses nothing."""
        if self._closing:
            done(StorageError("ingest is shutting down"))
            return
        if not frames:
            done([])
            return
        # A call for help jumps the queue and goes in a small batch of its own (S01: SOS latency
        # must not grow with the load); everything else is group committed in arrival order.
        if any(e.alarms and is_urgent(e) for f in frames for e in f.events):
            if journaled is not None and self._journal_pool is not None:
                self._journal_now(frames, done, journaled)
                return
            self._queue_urgent(frames, done)
            return
        self._pending.append((frames, done))
        self._wake.set()

    def _queue_urgent(self, frames: Sequence[FrameIn], done: Callable[..., None]) -> None:
        consumer = self._task if self._urgent_task is None else self._urgent_task
        if self._closing and (consumer is None or consumer.done()):
            done(StorageError("ingest is shutting down"))
            return
        self._urgent.append((frames, done))
        if self._urgent_task is None:
            self._wake.set()
        else:
            self._dispatch_urgent()

    # --- the urgent journal (SQLite, decision 0130) -----------------------------------------

    def _journal_now(
        self, frames: Sequence[FrameIn], done: Callable[..., None], journaled: Callable[[], None]
    ) -> None:
        """On the loop, in the callback that read the frames: commit them to the journal, answer
        the device (`journaled`), then store them in the database as ever (decision 0139). The
        append is a small commit to a file nothing else writes, without an fsync (as the
        database's own), about 0.1 ms; handing it to the journal thread instead cost the call for
        help two passes of a busy loop and two thread switches. The entry is in flight from its
        commit: `turn` keeps the replay from reading it before it is marked."""
        journal = self.journal
        assert journal is not None
        try:
            with journal.turn:
                entry = journal.append(frames)
                self._journal_in_flight.add(entry)
        except Exception as exc:
            self.metrics.journal_failures += 1
            log.error("urgent journal append failed (%r); acknowledged after the database's commit", exc)
            self._queue_urgent(frames, done)
            return
        self.metrics.journaled += 1
        try:
            journaled()
        except Exception:
            log.exception("a listener's callback failed after its frames were journaled")
        self._queue_urgent(frames, functools.partial(self._journaled_stored, entry, done))

    def _journaled_stored(self, entry: int, done: Callable[..., None] | None, outcome: Any) -> None:
        """On the loop: the database's outcome for a journaled submission (or a replayed entry)."""
        self._journal_in_flight.discard(entry)
        if isinstance(outcome, Exception):
            attempts = self._journal_attempts[entry] = self._journal_attempts.get(entry, 0) + 1
            if attempts < JOURNAL_ATTEMPTS:
                log.error(
                    "urgent journal entry %d not stored (%r); stored again in %.0f s",
                    entry,
                    outcome,
                    JOURNAL_RETRY_SECONDS,
                )
                self._journal_retry.set()
            else:
                log.error(
                    "urgent journal entry %d refused %d times (%r); left in the journal until the next start",
                    entry,
                    attempts,
                    outcome,
                )
        elif self._journal_pool is not None and self.journal is not None:
            self._journal_pool.submit(self._remove_entry, entry)
        if done is not None:
            done(outcome)

    def _remove_entry(self, entry: int) -> None:
        assert self.journal is not None
        try:
            self.journal.remove([entry])
        except Exception:
            # Left in the journal: the next replay finds its frames stored and removes it then.
            log.exception("urgent journal entry %d stored but not removed", entry)

    async def _replay_journal(self) -> None:
        """Store what the journal holds and the database does not: at start (entries a stopped or
        killed process left, in the slot this process claimed or in slots no process owns), every
        `ORPHAN_SCAN_SECONDS`, and `JOURNAL_RETRY_SECONDS` after a journaled submission failed."""
        loop = asyncio.get_running_loop()
        while not self._closing:
            try:
                entries = await loop.run_in_executor(self._journal_pool, self._entries_to_store)
            except Exception:
                log.exception(
                    "reading the urgent journal failed; trying again in %.0f s", JOURNAL_RETRY_SECONDS
                )
                entries = []
                self._journal_retry.set()
            for entry, frames in entries:
                self.metrics.journal_replayed += 1
                log.warning("urgent journal entry %d: storing it again (%d frames)", entry, len(frames))
                self._queue_urgent(frames, functools.partial(self._journaled_stored, entry, None))
            try:
                # Not `wait_for`: on Python 3.11 it loses a cancellation (`stop`) that arrives as
                # the event is set.
                async with asyncio.timeout(ORPHAN_SCAN_SECONDS):
                    await self._journal_retry.wait()
            except TimeoutError:
                continue  # look for orphaned journals again
            self._journal_retry.clear()
            await asyncio.sleep(JOURNAL_RETRY_SECONDS)

    def _entries_to_store(self) -> list[tuple[int, list[FrameIn]]]:
        """The journal thread: entries not in flight whose frames the database does not hold
        (an entry it holds is removed: the process stopped between the commit and the removal)."""
        journal = self.journal
        assert journal is not None
        keep_connection()
        adopted = journal.adopt_orphans(str(connection.settings_dict["NAME"]))
        if adopted:
            log.warning("urgent journal: %d entries adopted from a gateway process that died", adopted)
        in_flight, attempts = self._journal_in_flight, self._journal_attempts
        with journal.turn:  # the loop appends and marks an entry in flight in one turn
            taken = [
                entry
                for entry in journal.entry_ids()
                if entry not in in_flight and attempts.get(entry, 0) < JOURNAL_ATTEMPTS
            ]
            in_flight.update(taken)
        out: list[tuple[int, list[FrameIn]]] = []
        kept: set[int] = set()
        try:
            for entry, frames in journal.entries(taken):
                if frames is None:
                    continue
                if already_stored(frames):
                    journal.remove([entry])
                    continue
                out.append((entry, frames))
            kept = {entry for entry, _ in out}
        finally:
            in_flight.difference_update(set(taken) - kept)  # on a failure, none stays taken
        return out

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        leads = self._urgent_task is None  # urgent submissions lead the next batch (no writer process)
        settling: asyncio.Task | None = None
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self.linger and len(self._pending) < self.max_batch:
                await asyncio.sleep(self.linger)
            while self._pending or (self._urgent and leads):
                batch, count = [], 0
                while self._urgent and leads and count < self.urgent_batch:
                    item = self._urgent.popleft()
                    batch.append(item)
                    count += len(item[0])
                limit = self.urgent_batch if batch else self.max_batch
                while self._pending and (count == 0 or count + len(self._pending[0][0]) <= limit):
                    item = self._pending.popleft()
                    batch.append(item)
                    count += len(item[0])
                outcomes = await self._store(loop, self._writer, batch)
                # The next batch is written while this one's ACKs go out (decision 0134): the
                # writer is not left idle while the loop settles a thousand submissions.
                if settling is not None:
                    await settling
                settling = asyncio.create_task(self._settle(batch, outcomes))
            if self._closing and not self._pending and not (self._urgent and leads):
                if settling is not None:
                    await settling
                return

    async def _run_urgent(self) -> None:
        """With a writer process: at shutdown, wait until every urgent batch was stored and
        settled. The batches themselves are sent by `_dispatch_urgent`."""
        while True:
            await self._urgent_wake.wait()
            self._urgent_wake.clear()
            self._dispatch_urgent()
            if self._closing and not self._urgent and not self._urgent_batches:
                return

    def _dispatch_urgent(self) -> None:
        """With a writer process: store urgent submissions, in small batches, from the
        `ingest-urgent` threads. On SQLite they go on the child's urgent pipe (decision 0127), and
        the child stores them between two runs of the batch in flight; on PostgreSQL the threads
        store them themselves, beside that batch (decision 0141). Up to `URGENT_IN_FLIGHT`
        batches at once (decision 0128): an SOS is sent the moment it is decoded, not after the
        one in front of it was answered.

        Called on the loop, in the callback that submitted the frames, and the outcome settles
        them at the listeners' next read, or in the one callback the thread schedules
        (`settle_urgent`): no task, event or future between them (decision 0140). Each of those
        had cost the SOS a pass of a loop busy with 10,000 messages a second, four passes from
        the frame to its ACK; the callback itself still cost one (decision 0143)."""
        in_flight = self._urgent_batches
        while self._urgent and len(in_flight) < URGENT_IN_FLIGHT:
            batch, count = [], 0
            while self._urgent and count < self.urgent_batch:
                item = self._urgent.popleft()
                batch.append(item)
                count += len(item[0])
            loop = asyncio.get_running_loop()
            settled = loop.create_future()
            in_flight.add(settled)
            groups = [group if type(group) is list else list(group) for group, _ in batch]
            try:
                assert self._urgent_pool is not None
                work = self._urgent_pool.submit(self._write_groups, groups, True)
            except Exception as exc:  # the executor itself failed (shut down)
                self._urgent_stored(batch, settled, [exc] * len(batch))
                continue
            work.add_done_callback(functools.partial(self._urgent_written, loop, batch, settled))

    def _urgent_written(
        self,
        loop: asyncio.AbstractEventLoop,
        batch: list[tuple[Sequence[FrameIn], Callable[..., None]]],
        settled: asyncio.Future,
        work: concurrent.futures.Future,
    ) -> None:
        """In the `ingest-urgent` thread that stored the batch: hand it to the loop to settle,
        at the next read of any connection or, if none comes first, in a callback of its own."""
        try:
            outcomes = work.result()
        except Exception as exc:
            outcomes = [exc] * len(batch)
        self.urgent_ready.append((batch, settled, outcomes))
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(self.settle_urgent)

    def settle_urgent(self) -> None:
        """On the loop: settle the urgent batches the `ingest-urgent` threads stored (decision
        0143). The listeners call it as they read a connection, so an SOS is acknowledged within
        one read of its commit: the callback its thread schedules runs only after the loop's pass
        through every socket that was ready (a few milliseconds at 10,000 messages a second),
        and finds nothing left to do."""
        ready = self.urgent_ready
        while ready:
            self._urgent_stored(*ready.popleft())

    def _urgent_stored(
        self,
        batch: list[tuple[Sequence[FrameIn], Callable[..., None]]],
        settled: asyncio.Future,
        outcomes: list[list[Stored] | Exception],
    ) -> None:
        """On the loop: tell an urgent batch's submissions their outcome, then send what waits."""
        try:
            self._count_batch(self._tell(batch, outcomes))
        finally:
            self._urgent_batches.discard(settled)
            if not settled.done():
                settled.set_result(None)
            self._dispatch_urgent()
            self._urgent_wake.set()  # the last one at shutdown

    async def _store(
        self,
        loop: asyncio.AbstractEventLoop,
        pool: ThreadPoolExecutor | None,
        batch: list[tuple[Sequence[FrameIn], Callable[..., None]]],
    ) -> list[list[Stored] | Exception]:
        """Store one batch in `pool`'s thread: each submission's stored frames, or its failure."""
        groups = [group if type(group) is list else list(group) for group, _ in batch]
        try:
            return await loop.run_in_executor(pool, self._write_groups, groups)
        except Exception as exc:  # the executor itself failed
            return [exc] * len(batch)

    async def _settle(
        self,
        batch: list[tuple[Sequence[FrameIn], Callable[..., None]]],
        outcomes: list[list[Stored] | Exception],
    ) -> None:
        """Tell each submission of a stored batch its outcome (a listener then writes its ACK),
        `SETTLE_SLICE` at a time."""
        frames_ok = 0
        for start in range(0, len(batch), SETTLE_SLICE):
            if start:
                await asyncio.sleep(0)  # let the loop read sockets and settle an SOS in between
            if self.urgent_ready:
                self.settle_urgent()
            end = start + SETTLE_SLICE
            frames_ok += self._tell(batch[start:end], outcomes[start:end])
        self._count_batch(frames_ok)

    def _tell(
        self,
        batch: list[tuple[Sequence[FrameIn], Callable[..., None]]],
        outcomes: list[list[Stored] | Exception],
    ) -> int:
        """Tell each submission its outcome; the frames stored."""
        frames_ok = 0
        for (_group, done), outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, Exception):
                self.metrics.storage_failures += 1
                outcome = StorageError(str(outcome))
            else:
                frames_ok += len(outcome)
            try:
                done(outcome)
            except Exception:
                log.exception("a listener's callback failed after its frames were stored")
        return frames_ok

    def _count_batch(self, frames_ok: int) -> None:
        if frames_ok:
            self.metrics.batches += 1
            self.metrics.frames_stored += frames_ok
            self.metrics.largest_batch = max(self.metrics.largest_batch, frames_ok)

    def _write_groups(
        self, groups: list[list[FrameIn]], urgent: bool = False
    ) -> list[list[Stored] | Exception]:
        """Store every submission of a batch in one transaction (a writer process: in a few, cut
        between submissions); if that fails, store the submissions not committed one by one, so
        that one frame the database refuses fails only its own connection's submission."""
        committed: list[Stored] = []
        try:
            stored = self._write([f for group in groups for f in group], [len(g) for g in groups], urgent)
        except Exception as exc:
            if isinstance(exc, PartlyStored):
                committed = exc.stored
            elif len(groups) == 1:
                log.error("storing %d frames failed: %r; not acknowledged", len(groups[0]), exc)
                return [exc]
            log.warning(
                "batch of %d submissions failed (%r) after %d frames; storing the rest one by one",
                len(groups),
                exc,
                len(committed),
            )
            out: list[list[Stored] | Exception] = []
            i = 0
            for group in groups:
                if i + len(group) <= len(committed):
                    out.append(committed[i : i + len(group)])
                    i += len(group)
                else:
                    out.append(self._write_one(group, urgent))
            return out
        out = []
        i = 0
        for group in groups:
            out.append(stored[i : i + len(group)])
            i += len(group)
        return out

    def _write_one(self, group: list[FrameIn], urgent: bool = False) -> list[Stored] | Exception:
        try:
            return self._write(group, (), urgent)
        except Exception as exc:
            log.error("storing %d frames failed: %r; not acknowledged", len(group), exc)
            return exc

    def _write(self, frames: list[FrameIn], sizes: Sequence[int] = (), urgent: bool = False) -> list[Stored]:
        started = time.perf_counter()
        if urgent and self._urgent_here:
            return self._write_urgent_here(frames, started)
        if self.writer_process is not None:
            try:
                stored, events, waited = self.writer_process.write(frames, sizes, urgent=urgent)
            except PartlyStored as exc:
                self._count_process_write(exc.events, exc.waited, started)
                raise
            self._count_process_write(events, waited, started)
            return stored
        keep_connection()
        if self.store is store_batch:
            stored, handed, waited = store_in_turn(frames, self.node)
            self.metrics.write_turn_wait_seconds += waited
            self.metrics.write_turn_wait_max = max(self.metrics.write_turn_wait_max, waited)
        else:

            def attempt() -> tuple[list[Stored], list[StoredEvent]]:
                with writer_turn():
                    return self.store(frames, self.node)

            stored, handed = retry_locked(attempt)
        self.metrics.events_stored += len(handed)
        self.metrics.store_seconds += time.perf_counter() - started
        if handed:
            if self.rules_process is not None:
                self.rules_process.wake()  # it reads the committed events itself, in id order
            else:
                # Submitted from the writer thread right after commit: the rules see batches in
                # commit order; an urgent event also goes to the lane, which runs it at once.
                if any(s.event.alarms and is_urgent(s.event) for s in handed):
                    self._lane.submit(self._process_urgent, handed)
                self._rules.submit(self._process, handed)
        return stored

    def _write_urgent_here(self, frames: list[FrameIn], started: float) -> list[Stored]:
        """PostgreSQL with a writer process: store an urgent batch in this `ingest-urgent` thread,
        on its own connection (decision 0141), beside the writer process's batch in flight, as
        the child's urgent thread did (decision 0127), without the two crossings of its pipe.

        Through the child, an SOS waited for the child's urgent thread to get its interpreter
        lock, held by the batch thread, which runs at a lower CPU priority (decision 0137) and,
        on a busy machine, could hold it while waiting for a CPU. It waited again for each of
        the three round trips to the server, and once more for the pipe back. Here the lock is
        shared with the event loop, which runs at the listeners' priority. A registered
        device's frame is one statement, one round trip (decision 0142); others take the
        three of `store_in_turn`."""
        keep_connection()
        if one_statement(frames):  # one round trip to the server instead of three (decision 0142)
            done = store_in_one_statement(frames, self.node)
            if done is not None:
                self._count_process_write(sum(len(s.event_ids) for s in done), 0.0, started)
                return done
        stored, handed, _waited = store_in_turn(frames, self.node)
        self._count_process_write(len(handed), 0.0, started)
        return stored

    def _adopt_urgent_connection(self) -> None:
        """As each `ingest-urgent` thread starts (PostgreSQL): remember its connection, so that
        `stop` closes it once the thread is gone."""
        mine = connections[DEFAULT_DB_ALIAS]
        mine.inc_thread_sharing()  # closed from another thread at `stop`
        with self._metrics_lock:
            self._urgent_connections.append(mine)

    def _close_urgent_connections(self) -> None:
        for urgent_connection in self._urgent_connections:
            urgent_connection.close()
            urgent_connection.dec_thread_sharing()
        self._urgent_connections.clear()

    def _count_process_write(self, events: int, waited: float, started: float) -> None:
        """Counters of a writer-process batch (from the writer and the urgent thread), and the
        rules process woken for its events."""
        with self._metrics_lock:
            self.metrics.write_turn_wait_seconds += waited
            self.metrics.write_turn_wait_max = max(self.metrics.write_turn_wait_max, waited)
            self.metrics.events_stored += events
            self.metrics.store_seconds += time.perf_counter() - started
        if events and self.rules_process is not None:
            self.rules_process.wake()

    def _process_urgent(self, handed: list[StoredEvent]) -> None:
        try:
            self.engine.process_urgent(handed)
        except Exception:
            log.exception("priority lane failed; the rules thread runs its events in turn")

    def _process(self, handed: list[StoredEvent]) -> None:
        started = time.perf_counter()
        # SQLite: the writer waits while decisions are applied (one write lock), so apply in
        # small chunks and let it in between (an SOS must not wait for 1,000 events' decisions).
        step = SQLITE_RULES_CHUNK if connection.vendor == "sqlite" else len(handed)
        for start in range(0, len(handed), max(1, step)):
            chunk = handed[start : start + step]
            try:
                self.engine.process(chunk)
            except Exception:
                log.exception("rules stage failed for %d events; left unprocessed for recovery", len(chunk))
        self.metrics.rules_seconds += time.perf_counter() - started

    async def drain_rules(self) -> None:
        """Wait until every handed-over batch has been through the rules (tests, shutdown)."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._writer, lambda: None)
        if self._urgent_batches:
            await asyncio.gather(*self._urgent_batches, return_exceptions=True)
        if self.rules_process is not None:
            await loop.run_in_executor(None, self.rules_process.drain)
            return
        await loop.run_in_executor(self._lane, lambda: None)
        await loop.run_in_executor(self._rules, lambda: None)


def _restart_log(patient: bool) -> tuple[bool, float]:
    """Copy the rest of the log and start it again from its beginning (decision 0126).

    A PASSIVE checkpoint never makes the log shorter: SQLite starts writing at the beginning again
    only when a writer finds every frame copied and no reader using the log, which never happens
    while frames arrive 10,000 times a second and the rules process reads between them. The log
    then grows without end (3.5 GB in a 2-minute benchmark), and every page read searches a
    longer log index. Here the checkpointer takes the gateway writers' turn (`writer_turn`: the
    ingest writer and the rules stage wait on the lock file and resume the moment it is released)
    and runs a RESTART checkpoint, which waits for readers at most `RESTART_BUSY_MS` (this
    connection's busy timeout; `patient`: `RESTART_BUSY_LONG_MS`) and otherwise leaves the restart
    to its next pass.

    Whatever the RESTART has to do is done while every writer (and every SOS) waits, so first,
    outside the turn, the checkpointer catches up (decision 0129): `_flush_database_file` writes
    the pages its PASSIVE checkpoints copied into the database file to disk, and while a flush
    took long, another PASSIVE copies what was written meanwhile and it flushes again. The
    RESTART then copies and syncs only the last few milliseconds' pages. Returns whether the log
    was restarted and how long the writers' turn was held."""
    raw = _checkpointer_connection()
    for _ in range(CATCH_UP_PASSES):  # the caller's PASSIVE has just copied the log
        started = time.perf_counter()
        _flush_database_file()
        if time.perf_counter() - started < CATCH_UP_SETTLED_SECONDS:
            break
        raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()  # what came during the flush
    raw.execute(f"PRAGMA busy_timeout={RESTART_BUSY_LONG_MS if patient else RESTART_BUSY_MS}")
    with writer_turn():
        started = time.perf_counter()
        row = raw.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
        held = time.perf_counter() - started
    return bool(row) and row[0] == 0, held


_flush_fds: dict[str, int] = {}
"""A descriptor of each database file flushed, opened once and **never closed** while the process
lives: closing any descriptor of a file drops every POSIX lock this process holds on it, SQLite's
shared lock on the database included, after which another process's last connection would take
its exclusive lock, checkpoint and delete the write-ahead log under this one ("How To Corrupt An
SQLite Database File", §2.2)."""
_flush_fds_lock = threading.Lock()


def _flush_database_file() -> None:
    """Write the database file's dirty pages to disk (fdatasync) outside the writers' turn.

    A PASSIVE checkpoint that finds frames appended while it copied (always, under load) copies
    pages into the database file without syncing it; the sync is left to the checkpoint that
    copies the log's last frame, the RESTART, which then flushed every page copied since the
    previous restart while holding the writers' turn: 25 ms early in a benchmark, 95 ms a minute
    later as the database grew, with every SOS arriving meanwhile waiting for it."""
    path = str(connection.settings_dict["NAME"])
    with _flush_fds_lock:
        fd = _flush_fds.get(path)
        if fd is None or os.fstat(fd).st_ino != os.stat(path).st_ino:  # new, or a new file there
            fd = _flush_fds[path] = os.open(path, os.O_RDONLY)  # a replaced file's stays open too
    os.fdatasync(fd)  # any descriptor of the file flushes the file's pages


def _checkpointer_connection() -> Any:
    """The checkpointer thread's SQLite connection (its busy timeout is set by `_restart_log`: the
    settings' 20 s would hold the gateway writers' turn that long; PASSIVE never waits)."""
    connection.ensure_connection()
    return connection.connection


def _checkpoint_passive() -> int:
    """Returns the log's length in pages (SQLite answers busy, log pages, pages checkpointed)."""
    row = _checkpointer_connection().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return int(row[1]) if row and row[1] is not None and row[1] >= 0 else 0


def _close_connection() -> None:
    """Close this thread's database connection (the proxy resolves per thread when called here)."""
    connection.close()
