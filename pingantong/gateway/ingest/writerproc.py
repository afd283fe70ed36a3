"""The ingest writer in a process of its own (decision 0125).

With `PINGANTONG_GATEWAY_WRITER=process` (and the rules in their own process) the gateway's
event loop no longer shares its interpreter lock with the Python work of storing: building a
batch's rows, the registry look-up, JSON. Each batch the ingestor would have stored in its writer
thread is sent to this child instead (frames as plain tuples, pickled: ~2 µs per frame for the
parent), stored there exactly as the thread would have (`store.store_in_turn`: same rows, same
transaction, same turn at SQLite's write lock) and answered with the ids. The parent's writer
thread waits for the answer without holding the lock, so the loop runs on while the child works
on the other core.

Durability is unchanged: the ingestor acknowledges a frame only after the child answered that
its batch committed. A child that fails a batch answers with the error (the ingestor then stores
the batch's submissions one by one, as with the thread); a child that dies mid-batch leaves the
parent's read at end of file: that batch is reported not stored (nothing of it is acknowledged,
the terminals resend) and the next batch starts a new child.

A call for help does not wait for the batch in front of it (decision 0127, S01). The ingestor sends
SOS, fall, smoke and gas frames on a second pipe, the urgent one, from a thread of its own the
moment they are decoded. SQLite takes one writer at a time: the child stores a large batch in
transactions of at most `CHUNK_FRAMES` frames, cut between submissions, and serves the urgent
pipe between two of them, so an SOS waits for one run (a few milliseconds), not for a thousand
frames' inserts and their ACKs. The batch is still acknowledged only when all of its runs
committed; if a run fails, the parent is told which submissions the committed runs hold
(`PartlyStored`) and stores the rest one by one, as after any failed batch. Several urgent batches
may be on the urgent pipe at once (`URGENT_IN_FLIGHT` in the ingestor): the child answers them in
the order they were sent, and the parent's threads match the answers to their requests in that
order, so an SOS does not wait for the one in front of it to travel back before it is sent.
PostgreSQL takes many writers: there the ingestor's urgent threads store those frames themselves,
each on a connection of its own, beside the batch in progress (decision 0141), and the urgent
pipe is not used.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import multiprocessing
import operator
import pickle
import threading
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from multiprocessing.connection import wait
from typing import Any

from pingantong.gateway.events import DeviceEvent, Position
from pingantong.gateway.ingest.types import FrameIn, Stored

log = logging.getLogger("pingantong.gateway.ingest")

START_TIMEOUT = 120.0
CHUNK_FRAMES = 200
"""The most frames the child commits in one transaction when it may have to let an urgent frame in
between (a batch holds up to 1,000): ~5-10 ms of inserts here, the longest an SOS waits for."""


class WriterProcessError(RuntimeError):
    """The writer process did not answer for a batch: treat the batch as not stored."""


class PartlyStored(WriterProcessError):
    """The first chunks of a batch committed, then one failed: `stored` holds the committed
    frames' ids, whole submissions from the batch's start; the rest of the batch is not stored."""

    def __init__(self, stored: list[Stored], events: int, waited: float, message: str) -> None:
        super().__init__(message)
        self.stored = stored
        self.events = events
        self.waited = waited


# --- what crosses the pipe ---------------------------------------------------------------------


EVENT_FIELDS = tuple(f.name for f in dataclasses.fields(DeviceEvent))
POSITION_FIELDS = tuple(f.name for f in dataclasses.fields(Position))
_POSITION = EVENT_FIELDS.index("position")
_event_values = operator.attrgetter(*EVENT_FIELDS)
_position_values = operator.attrgetter(*POSITION_FIELDS)


def _event_tuple(e: DeviceEvent) -> tuple:
    """Every field of the event in order, the position as a tuple of its own fields."""
    values = _event_values(e)
    p = values[_POSITION]
    if p is None:
        return values  # type: ignore[no-any-return]
    return (*values[:_POSITION], _position_values(p), *values[_POSITION + 1 :])


def encode_frames(frames: Sequence[FrameIn], sizes: Sequence[int] = ()) -> bytes:
    """The frames as pickled tuples of plain values (dataclasses with slots pickle through Python
    code, several times slower), with the sizes of the submissions they come from (the child cuts
    its transactions between submissions; empty: one submission)."""
    rows = [
        (f.protocol, f.raw, f.peer, f.identity, f.error, f.received_at, [_event_tuple(e) for e in f.events])
        for f in frames
    ]
    return pickle.dumps((list(sizes), rows), protocol=pickle.HIGHEST_PROTOCOL)


def _event(values: tuple) -> DeviceEvent:
    p = values[_POSITION]
    if p is not None:
        values = (*values[:_POSITION], Position(*p), *values[_POSITION + 1 :])
    return DeviceEvent(*values)


def decode_batch(data: bytes) -> tuple[list[FrameIn], list[int]]:
    """`encode_frames` undone: the frames and their submissions' sizes."""
    sizes, rows = pickle.loads(data)  # noqa: S301 - our own parent's bytes
    out = []
    for protocol, raw, peer, identity, error, received_at, events in rows:
        out.append(FrameIn(protocol, raw, [_event(e) for e in events], peer, identity, error, received_at))
    return out, sizes


def decode_frames(data: bytes) -> list[FrameIn]:
    return decode_batch(data)[0]


def decode_frames_named(
    data: bytes, event_fields: tuple[str, ...], position_fields: tuple[str, ...]
) -> list[FrameIn]:
    """`encode_frames` undone for frames encoded with other fields (the urgent journal's entries
    written by another version): fields matched by name, ones no longer known dropped, new ones
    left at their defaults (TypeError if a field without a default is missing)."""
    known_event, known_position = set(EVENT_FIELDS), set(POSITION_FIELDS)
    at = event_fields.index("position") if "position" in event_fields else -1

    def event(values: tuple) -> DeviceEvent:
        fields = dict(zip(event_fields, values, strict=True))
        if at >= 0 and values[at] is not None:
            p = dict(zip(position_fields, values[at], strict=True))
            fields["position"] = Position(**{k: v for k, v in p.items() if k in known_position})
        return DeviceEvent(**{k: v for k, v in fields.items() if k in known_event})

    _sizes, rows = pickle.loads(data)  # noqa: S301 - our own bytes
    return [
        FrameIn(protocol, raw, [event(e) for e in events], peer, identity, error, received_at)
        for protocol, raw, peer, identity, error, received_at, events in rows
    ]


def chunks(frames: Sequence[FrameIn], sizes: Sequence[int], limit: int) -> list[Sequence[FrameIn]]:
    """The batch cut into runs of whole submissions of at most `limit` frames (a larger
    submission is a run of its own: one connection's frames commit together)."""
    out: list[Sequence[FrameIn]] = []
    start = count = 0
    for size in sizes or (len(frames),):
        if count and count + size > limit:
            out.append(frames[start : start + count])
            start, count = start + count, 0
        count += size
    if count:
        out.append(frames[start : start + count])
    return out


# --- the child process ---------------------------------------------------------------------------


def _serve(
    node: str, database: dict[str, Any], settings_module: str, conn: Any, urgent: Any, debug: bool
) -> None:
    """Entry point of the writer process (multiprocessing, spawn): store what the parent sends,
    urgent submissions first."""
    from pingantong.gateway.ingest.consumer import set_up_child
    from pingantong.gateway.priority import lower_this_thread

    set_up_child(database, settings_module, debug)
    from django.db import connection, connections

    conn.send_bytes(b"ready")
    # PostgreSQL takes many writers: the gateway's `ingest-urgent` threads store urgent batches
    # themselves, beside the batch in flight here (decision 0141), and the urgent pipe is not used.
    one_writer = connection.vendor != "postgresql"
    child = _Child(node, urgent if one_writer else None)
    # The batches run at a lower priority than an SOS's path (decision 0137; on SQLite, by
    # default, nothing is lowered).
    lower_this_thread()
    try:
        while True:
            if one_writer and urgent in wait([urgent, conn]):
                child.answer(urgent)
            else:
                child.answer(conn, runs=one_writer)
    except (EOFError, OSError):
        return  # the gateway is gone
    finally:
        connections.close_all()


class _Child:
    def __init__(self, node: str, urgent: Any) -> None:
        self.node = node
        self.urgent = urgent
        """SQLite: the urgent pipe, served between a batch's runs (None on PostgreSQL)."""
        self.cpu_mark = time.process_time()

    def answer(self, conn: Any, *, runs: bool = False) -> None:
        """Read one batch from `conn`, store it, answer on `conn`. With `runs` (SQLite), in runs
        of `CHUNK_FRAMES`, serving the urgent pipe between them."""
        from pingantong.gateway.ingest.dbconn import keep_connection

        data = conn.recv_bytes()
        try:
            keep_connection()
            frames, sizes = decode_batch(data)
            reply = self.store(frames, sizes, runs)
        except Exception as exc:  # the batch was not committed: the parent will not ACK it
            reply = ("error", repr(exc))
        # CPU since the previous answer: each second is counted once, whichever batch it served.
        now = time.process_time()
        cpu, self.cpu_mark = now - self.cpu_mark, now
        conn.send_bytes(pickle.dumps((*reply, cpu), protocol=pickle.HIGHEST_PROTOCOL))

    def store(self, frames: list[FrameIn], sizes: list[int], runs: bool) -> tuple:
        from pingantong.gateway.ingest.store import store_in_turn

        rows: list[tuple] = []
        events, waited = 0, 0.0
        for k, run in enumerate(chunks(frames, sizes, CHUNK_FRAMES) if runs else [frames]):
            while k and self.urgent is not None and self.urgent.poll():
                self.answer(self.urgent)
            try:
                stored, handed, w = store_in_turn(run, self.node)
            except Exception as exc:
                if not rows:
                    raise
                return ("partial", rows, events, waited, repr(exc))
            rows.extend((s.raw_frame_id, s.event_ids, s.device_pk) for s in stored)
            events += len(handed)
            waited += w
        return ("ok", rows, events, waited)


# --- the parent's handle ---------------------------------------------------------------------


class WriterProcess:
    """Start, use, restart and stop the writer process. `write` is called from the ingestor's
    writer thread (one batch at a time, in commit order) and, with `urgent=True` (SQLite only: the
    child serves the urgent pipe only there), from its urgent threads (several urgent batches in
    flight, answered in the order sent), each on a pipe of its own."""

    def __init__(self, node: str) -> None:
        self.node = node
        self._ctx = multiprocessing.get_context("spawn")
        self._proc: Any = None
        self._conn: Any = None
        self._urgent: Any = None
        self._lock = threading.Lock()
        """Held to start, restart, kill or stop the child; each pipe has a lock of its own."""
        self._pipe_locks = {False: threading.Lock(), True: threading.Lock()}
        self._urgent_reading = threading.Lock()
        """Held by the urgent thread reading answers; it reads until its own request is answered."""
        self._urgent_in_flight: deque[Future] = deque()
        """The urgent requests sent and not yet answered, in the order sent (one deque per child)."""
        self.restarts = 0
        self.cpu_seconds = 0.0
        """CPU the process spent storing batches (as it reported them)."""

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def alive(self) -> bool:
        return self._proc is not None and self._proc.is_alive()

    def start(self) -> None:
        from pingantong.gateway.ingest.consumer import child_settings

        self._close()
        parent, child = self._ctx.Pipe()
        urgent_parent, urgent_child = self._ctx.Pipe()
        database, settings_module, debug = child_settings()
        self._proc = self._ctx.Process(
            target=_serve,
            args=(self.node, database, settings_module, child, urgent_child, debug),
            name=f"ingest-writer-{self.node}",
            daemon=True,
        )
        self._proc.start()
        child.close()  # the parent's reads then end at EOF when the child dies
        urgent_child.close()
        self._conn, self._urgent = parent, urgent_parent
        self._urgent_in_flight = deque()
        if not parent.poll(START_TIMEOUT) or parent.recv_bytes() != b"ready":
            self._kill_locked(self._proc)  # a late "ready" must not be read as a batch's answer
            raise WriterProcessError("the ingest writer process did not start")

    def _close(self) -> None:
        for conn in (self._conn, self._urgent):
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()
        self._conn = self._urgent = None

    def write(
        self, frames: Sequence[FrameIn], sizes: Sequence[int] = (), *, urgent: bool = False
    ) -> tuple[list[Stored], int, float]:
        """Store `frames` (submissions of `sizes` frames each) in the child: (per-frame ids, events
        stored, seconds waited for the write turn). Raises if the batch was not committed, or may
        not have been; `PartlyStored` if its first submissions were."""
        payload = encode_frames(frames, sizes)
        with self._lock:
            if not self.alive():
                if self._proc is not None:
                    log.error("ingest writer process exited (%s); restarting it", self._proc.exitcode)
                    self.restarts += 1
                self.start()
            proc, conn = self._proc, self._urgent if urgent else self._conn
            in_flight = self._urgent_in_flight
        try:
            if urgent:
                data = self._exchange_urgent(conn, in_flight, payload)
            else:
                with self._pipe_locks[False]:
                    conn.send_bytes(payload)
                    data = conn.recv_bytes()
        except (EOFError, OSError) as exc:
            # Died with the batch: committed or not, it is not acknowledged (the terminals
            # resend; at worst a frame is stored twice, never acknowledged unstored).
            self._kill(proc)
            raise WriterProcessError(f"the ingest writer process failed during a batch: {exc!r}") from exc
        reply = pickle.loads(data)  # noqa: S301 - our own child's bytes
        with self._lock:  # both pipes' threads add to it
            self.cpu_seconds += reply[-1]
        if reply[0] == "error":
            raise WriterProcessError(reply[1])
        rows, events, waited = reply[1:4]
        stored = [Stored(raw_id, ids, device_pk) for raw_id, ids, device_pk in rows]
        if reply[0] == "partial":
            raise PartlyStored(stored, events, waited, reply[4])
        return stored, events, waited

    def _exchange_urgent(self, conn: Any, in_flight: deque[Future], payload: bytes) -> bytes:
        """Send an urgent batch without waiting for the ones before it to be answered, then read
        answers (whoever reads first reads for the others too) until this one's has come. EOFError
        or OSError if the child died or its pipe was closed: every request still in flight on that
        pipe fails with it (`write` then kills the child)."""
        mine: Future = Future()
        try:
            with self._pipe_locks[True]:
                in_flight.append(mine)  # in the order sent, which is the order answered
                conn.send_bytes(payload)
            with self._urgent_reading:
                while not mine.done():
                    answered = conn.recv_bytes()
                    in_flight.popleft().set_result(answered)
        except (EOFError, OSError) as exc:
            while in_flight:
                waiting = in_flight.popleft()
                if not waiting.done():
                    waiting.set_exception(exc)
            if not mine.done():
                mine.set_exception(exc)
        return mine.result()  # type: ignore[no-any-return]

    def _kill(self, proc: Any) -> None:
        """Kill `proc` if it is still this handle's child (the other pipe's thread may have
        replaced it already)."""
        with self._lock:
            self._kill_locked(proc)

    def _kill_locked(self, proc: Any) -> None:
        if proc is not self._proc or proc is None:
            return
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        self._close()

    def kill(self) -> None:
        """Kill the process without warning, even in the middle of a batch (tests: storage dying
        mid-stream); the batch's `write` then fails, and the next one starts a new process."""
        proc = self._proc
        if proc is not None and proc.is_alive():
            proc.kill()
            proc.join(5)

    def stop(self) -> None:
        with self._lock:
            self._close()  # the child reads EOF and exits
            if self._proc is not None:
                self._proc.join(10)
                if self._proc.is_alive():
                    self._proc.terminate()
                    self._proc.join(5)
            self._proc = None
