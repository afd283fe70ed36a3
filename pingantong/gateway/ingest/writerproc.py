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
from collections.abc import Sequence
from typing import Any

from pingantong.gateway.events import DeviceEvent, Position
from pingantong.gateway.ingest.types import FrameIn, Stored

log = logging.getLogger("pingantong.gateway.ingest")

START_TIMEOUT = 120.0


class WriterProcessError(RuntimeError):
    """The writer process did not answer for a batch: treat the batch as not stored."""


# --- what crosses the pipe ---------------------------------------------------------------------


_EVENT_FIELDS = tuple(f.name for f in dataclasses.fields(DeviceEvent))
_POSITION = _EVENT_FIELDS.index("position")
_event_values = operator.attrgetter(*_EVENT_FIELDS)
_position_values = operator.attrgetter(*(f.name for f in dataclasses.fields(Position)))


def _event_tuple(e: DeviceEvent) -> tuple:
    """Every field of the event in order, the position as a tuple of its own fields."""
    values = _event_values(e)
    p = values[_POSITION]
    if p is None:
        return values  # type: ignore[no-any-return]
    return (*values[:_POSITION], _position_values(p), *values[_POSITION + 1 :])


def encode_frames(frames: Sequence[FrameIn]) -> bytes:
    """The frames as pickled tuples of plain values (dataclasses with slots pickle through Python
    code, several times slower)."""
    rows = [
        (f.protocol, f.raw, f.peer, f.identity, f.error, f.received_at, [_event_tuple(e) for e in f.events])
        for f in frames
    ]
    return pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL)


def _event(values: tuple) -> DeviceEvent:
    p = values[_POSITION]
    if p is not None:
        values = (*values[:_POSITION], Position(*p), *values[_POSITION + 1 :])
    return DeviceEvent(*values)


def decode_frames(data: bytes) -> list[FrameIn]:
    out = []
    for protocol, raw, peer, identity, error, received_at, events in pickle.loads(data):  # noqa: S301 - our own parent's bytes
        out.append(FrameIn(protocol, raw, [_event(e) for e in events], peer, identity, error, received_at))
    return out


# --- the child process ---------------------------------------------------------------------------


def _serve(node: str, database: dict[str, Any], settings_module: str, conn: Any, debug: bool) -> None:
    """Entry point of the writer process (multiprocessing, spawn): store what the parent sends."""
    from pingantong.gateway.ingest.consumer import set_up_child

    set_up_child(database, settings_module, debug)
    from django.db import connections

    from pingantong.gateway.ingest.dbconn import keep_connection
    from pingantong.gateway.ingest.store import store_in_turn

    conn.send_bytes(b"ready")
    try:
        while True:
            data = conn.recv_bytes()
            started = time.process_time()
            try:
                keep_connection()
                stored, handed, waited = store_in_turn(decode_frames(data), node)
                reply: tuple = (
                    "ok",
                    [(s.raw_frame_id, s.event_ids, s.device_pk) for s in stored],
                    len(handed),
                    waited,
                    time.process_time() - started,
                )
            except Exception as exc:  # the batch was not committed: the parent will not ACK it
                reply = ("error", repr(exc), time.process_time() - started)
            conn.send_bytes(pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL))
    except (EOFError, OSError):
        return  # the gateway is gone
    finally:
        connections.close_all()


# --- the parent's handle ---------------------------------------------------------------------


class WriterProcess:
    """Start, use, restart and stop the writer process. `write` is called from the ingestor's
    writer thread only (one batch at a time, in commit order)."""

    def __init__(self, node: str) -> None:
        self.node = node
        self._ctx = multiprocessing.get_context("spawn")
        self._proc: Any = None
        self._conn: Any = None
        self._lock = threading.Lock()
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
        database, settings_module, debug = child_settings()
        self._proc = self._ctx.Process(
            target=_serve,
            args=(self.node, database, settings_module, child, debug),
            name=f"ingest-writer-{self.node}",
            daemon=True,
        )
        self._proc.start()
        child.close()  # the parent's read then ends at EOF when the child dies
        self._conn = parent
        if not parent.poll(START_TIMEOUT) or parent.recv_bytes() != b"ready":
            self._kill()  # a late "ready" must not be read as a batch's answer
            raise WriterProcessError("the ingest writer process did not start")

    def _close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
        self._conn = None

    def write(self, frames: Sequence[FrameIn]) -> tuple[list[Stored], int, float]:
        """Store `frames` in one transaction in the child: (per-frame ids, events stored, seconds
        waited for the write turn). Raises if the batch was not committed, or may not have been."""
        payload = encode_frames(frames)
        with self._lock:
            if not self.alive():
                if self._proc is not None:
                    log.error("ingest writer process exited (%s); restarting it", self._proc.exitcode)
                    self.restarts += 1
                self.start()
            try:
                self._conn.send_bytes(payload)
                reply = pickle.loads(self._conn.recv_bytes())  # noqa: S301 - our own child's bytes
            except (EOFError, OSError) as exc:
                # Died with the batch: committed or not, it is not acknowledged (the terminals
                # resend; at worst a frame is stored twice, never acknowledged unstored).
                self._kill()
                raise WriterProcessError(f"the ingest writer process failed during a batch: {exc!r}") from exc
        if reply[0] == "error":
            self.cpu_seconds += reply[2]
            raise WriterProcessError(reply[1])
        _kind, rows, events, waited, cpu = reply
        self.cpu_seconds += cpu
        return [Stored(raw_id, ids, device_pk) for raw_id, ids, device_pk in rows], events, waited

    def _kill(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            self._proc.kill()
        if self._proc is not None:
            self._proc.join(5)
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
