"""SQLite: a call for help made durable in a file of its own, then acknowledged (decision 0130).

SQLite takes one writer at a time. At 10,000 messages a second an SOS frame's insert waited at the
database's write lock for the run of frames in flight, the rules process's turn (12-26 ms) and now
and then the checkpointer's log restart; that wait was about half of the SOS frame→ACK p99 and most
of its median (issue 4, S01; docs/gateway.md). So a TCP listener's urgent submission (SOS, fall,
smoke, gas: `pipeline.is_urgent`) is first appended to this journal, an SQLite file beside the
database with a write lock of its own that nothing else takes, in WAL mode with the database's own
`synchronous=NORMAL`, so it is exactly as durable as a committed row of the database. The device is
acknowledged the moment the journal has committed it; the submission then goes on to the database
on the ordinary urgent path, and its journal entry is removed once the database has it.

An entry outlives its submission only when the database did not take it: the gateway process
died first, or the store failed. The ingestor then stores it again (`Ingestor._replay_journal`):
at start, and a few seconds after a failure. An entry whose frames the database already holds
(the process died between the database's commit and the entry's removal) is removed without
storing it twice: a frame is recognised by its protocol, its bytes and its reception time to the
microsecond.

Each gateway process owns a journal slot, `<database>.urgent-<n>`, for as long as it runs (see
`UrgentJournal`): a restarted gateway finds what its predecessor left whatever its process id.
The event loop appends, on a connection of its own, in the callback that read the frame, and
answers the device in that same callback (decision 0139); everything else (removals, the replay,
adopting orphans, checkpoints) is the ingestor's `ingest-journal` thread's, on another
connection. Writes take turns through `UrgentJournal.turn`, so the loop never meets SQLite's busy
handler, and the journal's log is checkpointed by that thread, never inside an append. An entry holds the
submission as the writer process's pipe carries it (`writerproc.encode_frames`) together with the
names of the event's fields, so that an entry left by an older version of the gateway is still
read after an upgrade.
"""

from __future__ import annotations

import fcntl
import logging
import os
import pickle
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from pingantong.gateway.ingest import writerproc
from pingantong.gateway.ingest.types import FrameIn

log = logging.getLogger("pingantong.gateway.ingest")

FORMAT = 1
"""The entries' layout (an entry of another format is kept, never dropped)."""

SLOTS = 32
"""Journals per database: one per gateway process running on it at once."""

APPEND_TIMEOUT = 0.1
"""Seconds an append waits for the journal's write lock (only another process's stray writer can
hold it: this process's writers take `turn`). Past it the append fails and the submission is
acknowledged after the database's commit instead: the event loop never sleeps in a busy handler."""

CHECKPOINT_EVERY = 64
"""Removals between two checkpoints of the journal's log (run by the journal thread)."""


def slot_path(database: str, slot: int) -> Path:
    """`<database>.urgent-<slot>`, beside the database file."""
    return Path(f"{database}.urgent-{slot}")


class UrgentJournal:
    """Append, remove and list urgent submissions; every call from one thread.

    A journal belongs to one gateway process at a time: the owner holds an exclusive `flock` on
    `<journal>.owner` for as long as it runs (`claim`), and the kernel releases it when the
    process ends, however it ends. The name is a slot number, not the gateway's node name (which
    holds the process id by default): a restarted gateway claims the first free slot and finds
    what the previous owner left, and slots nobody owns are adopted (`adopt_orphans`). Owner files
    are never removed while a gateway may run (removing a lock file races with its next owner)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None
        self._appender: sqlite3.Connection | None = None
        self._owner_fd: int | None = None
        self._removed = 0
        self.turn = threading.RLock()
        """Held for each write to the journal, by whichever thread writes: the event loop's
        appends and the journal thread's removals never wait in SQLite's busy handler for each
        other. The ingestor holds it across an append and the entry's marking as in flight, and
        the replay across reading which entries are not."""

    @classmethod
    def claim(cls, database: str) -> UrgentJournal:
        """The first slot no running gateway owns, owned by this process until `release`."""
        for slot in range(1, SLOTS + 1):
            journal = cls(slot_path(database, slot))
            if journal._try_own():
                return journal
        raise RuntimeError(f"all {SLOTS} urgent journal slots of {database} are owned by running gateways")

    def _try_own(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(f"{self.path}.owner", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._owner_fd = fd
        return True

    def release(self) -> None:
        """Close the journal (`close`) and give up its slot."""
        self.close()
        if self._owner_fd is not None:
            fd, self._owner_fd = self._owner_fd, None
            os.close(fd)  # the flock goes with it

    def adopt_orphans(self, database: str) -> int:
        """Move the entries of every slot that no running gateway owns into this journal (their
        owners died); returns how many were moved. An entry moved twice (this process died in
        between) is found stored by the replay and removed, or stored as a resend would be."""
        moved = 0
        for slot in range(1, SLOTS + 1):
            path = slot_path(database, slot)
            if path == self.path or not path.exists():
                continue
            orphan = UrgentJournal(path)
            if not orphan._try_own():
                continue  # a running gateway's
            try:
                for entry, payload in orphan._payloads():
                    with self.turn:
                        self._conn().execute(
                            "INSERT INTO entry (written_at, format, payload) VALUES (?, ?, ?)",
                            (time.time(), payload[0], payload[1]),
                        )
                    orphan.remove([entry])
                    moved += 1
            finally:
                orphan.release()
        return moved

    def _payloads(self) -> list[tuple[int, tuple[int, bytes]]]:
        rows = self._conn().execute("SELECT id, format, payload FROM entry ORDER BY id").fetchall()
        return [(entry, (fmt, payload)) for entry, fmt, payload in rows]

    def _open(self, timeout: float) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # check_same_thread off: the appender is opened by the loop and may be closed by the
        # journal thread at stop (never used by two threads at once).
        db = sqlite3.connect(self.path, isolation_level=None, timeout=timeout, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # as the database's own (settings.base)
        # Checkpoints (and their fsync) run in `checkpoint`, on the journal thread: never in the
        # commit of an append on the event loop, nor in a removal holding `turn`.
        db.execute("PRAGMA wal_autocheckpoint=0")
        db.execute(
            "CREATE TABLE IF NOT EXISTS entry ("
            " id INTEGER PRIMARY KEY AUTOINCREMENT, written_at REAL NOT NULL,"
            " format INTEGER NOT NULL, payload BLOB NOT NULL)"
        )
        return db

    def _conn(self) -> sqlite3.Connection:
        """The connection of the journal thread (removals, the replay, adoption)."""
        if self._db is None:
            self._db = self._open(5.0)
        return self._db

    def append(self, frames: Sequence[FrameIn]) -> int:
        """Commit one submission; its entry id. Called on the event loop, on the appender's own
        connection; it waits at most `APPEND_TIMEOUT` for the write lock, and raises past it."""
        payload = pickle.dumps(
            (writerproc.EVENT_FIELDS, writerproc.POSITION_FIELDS, writerproc.encode_frames(frames)),
            protocol=pickle.HIGHEST_PROTOCOL,
        )
        with self.turn:
            if self._appender is None:
                self._appender = self._open(APPEND_TIMEOUT)
            cursor = self._appender.execute(
                "INSERT INTO entry (written_at, format, payload) VALUES (?, ?, ?)",
                (time.time(), FORMAT, payload),
            )
        return int(cursor.lastrowid or 0)

    def remove(self, entry_ids: Sequence[int]) -> None:
        if entry_ids:
            marks = ",".join("?" * len(entry_ids))
            with self.turn:
                self._conn().execute(f"DELETE FROM entry WHERE id IN ({marks})", tuple(entry_ids))  # noqa: S608
            self._removed += len(entry_ids)
            if self._removed >= CHECKPOINT_EVERY:
                self.checkpoint()

    def checkpoint(self) -> None:
        """Copy the journal's log into its file (PASSIVE: beside the appends, without their lock)."""
        self._removed = 0
        self._conn().execute("PRAGMA wal_checkpoint(PASSIVE)")

    def entry_ids(self) -> list[int]:
        """The ids of every entry, oldest first."""
        return [row[0] for row in self._conn().execute("SELECT id FROM entry ORDER BY id")]

    def entries(self, entry_ids: Sequence[int] | None = None) -> list[tuple[int, list[FrameIn] | None]]:
        """Every entry (or those of `entry_ids`), oldest first, with its frames (None: an entry
        this version cannot read, kept and logged, never dropped)."""
        out: list[tuple[int, list[FrameIn] | None]] = []
        if entry_ids is None:
            rows = self._conn().execute("SELECT id, format, payload FROM entry ORDER BY id").fetchall()
        else:
            rows = []
            for start in range(0, len(entry_ids), 500):
                chunk = tuple(entry_ids[start : start + 500])
                marks = ",".join("?" * len(chunk))
                rows += (
                    self._conn()
                    .execute(
                        f"SELECT id, format, payload FROM entry WHERE id IN ({marks}) ORDER BY id",  # noqa: S608
                        chunk,
                    )
                    .fetchall()
                )
        for entry_id, fmt, payload in rows:
            try:
                if fmt != FORMAT:
                    raise ValueError(f"entry format {fmt}, this version reads {FORMAT}")
                out.append((entry_id, _frames(payload)))
            except Exception as exc:
                log.error(
                    "urgent journal %s: entry %s cannot be read (%r); left in place", self.path, entry_id, exc
                )
                out.append((entry_id, None))
        return out

    def close(self) -> None:
        """Close the connection. The owner of the slot removes a journal left empty with its WAL
        files (one holding entries stays for the next start to store them); a reader that does
        not own it never does, since the owner may be about to append to it."""
        with self.turn:
            appender, self._appender = self._appender, None
        if appender is not None:
            if self._db is None:
                self._db = appender
            else:
                appender.close()
        if self._db is None:
            return
        db, self._db = self._db, None
        try:
            empty = db.execute("SELECT NOT EXISTS (SELECT 1 FROM entry)").fetchone()[0]
        finally:
            db.close()  # the last connection to close checkpoints the log and removes it
        if empty and self._owner_fd is not None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)


def _frames(payload: bytes) -> list[FrameIn]:
    event_fields, position_fields, data = pickle.loads(payload)  # noqa: S301 - our own file
    if (
        tuple(event_fields) == writerproc.EVENT_FIELDS
        and tuple(position_fields) == writerproc.POSITION_FIELDS
    ):
        return writerproc.decode_frames(data)
    return writerproc.decode_frames_named(data, tuple(event_fields), tuple(position_fields))


def already_stored(frames: Sequence[FrameIn]) -> bool:
    """Whether the database holds every frame of a submission (this thread's Django connection)."""
    from pingantong.devices.models import RawFrame

    for f in frames:
        found = RawFrame.objects.filter(received_at=f.received_at, protocol=f.protocol, data=f.raw)
        if not found.exists():
            return False
    return True
