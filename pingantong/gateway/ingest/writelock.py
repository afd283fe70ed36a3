"""Taking turns at SQLite's one write lock without sleeping (decision 0094).

SQLite allows one writer. A connection that finds the lock taken waits in SQLite's busy handler,
which *sleeps* in steps of up to 100 ms and retries: the ingest writer (storing a batch that ends
in ACKs), the rules stage (device state, life signs, alarms, the rules queue) and the connection
bookkeeping of the registry then hand the lock to one another with tens of milliseconds lost at
each turn — at 10,000 messages/s that was most of the store's time, and an SOS waited behind it.

`writer_turn()` is an exclusive `flock` on a file beside the database, taken around each of those
write transactions: a waiter blocks in the kernel and is woken the moment the holder releases, in
this process (threads) or another (the rules process). Other writers of the database (web
requests, the task worker) are not affected and still meet SQLite's busy timeout. On PostgreSQL
and on in-memory SQLite it does nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator

from django.db import connection

_local = threading.local()


def _lock_path() -> str | None:
    if connection.vendor != "sqlite" or connection.is_in_memory_db():  # type: ignore[attr-defined]
        return None
    return f"{connection.settings_dict['NAME']}.gateway-lock"


@contextlib.contextmanager
def writer_turn() -> Iterator[None]:
    """Hold the gateway's turn at the SQLite write lock for the duration of the block (reentrant
    per thread)."""
    path = _lock_path()
    if path is None:
        yield
        return
    depth = getattr(_local, "depth", 0)
    if depth:
        _local.depth = depth + 1
        try:
            yield
        finally:
            _local.depth -= 1
        return
    fds: dict[str, int] = getattr(_local, "fds", None) or {}
    _local.fds = fds
    fd = fds.get(path)
    if fd is None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fds[path] = fd
    fcntl.flock(fd, fcntl.LOCK_EX)
    _local.depth = 1
    try:
        yield
    finally:
        _local.depth = 0
        fcntl.flock(fd, fcntl.LOCK_UN)
