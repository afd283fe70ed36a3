"""The database connection of a long-lived gateway thread or process (ingest writer, rules).

Django closes a connection at the end of each request when `CONN_MAX_AGE` says so (0 for the
embedded SQLite default), and `close_old_connections()` applies the same rule outside requests.
A gateway writer is not a request: it runs hundreds of batches a second, and reopening SQLite
(with its PRAGMAs) or PostgreSQL for each one cost ~5 µs per stored message at full batches and
far more at small ones. So these threads keep their connection and replace it only when it
failed: after a database error, a connection that no longer answers is closed and the next
query opens a fresh one.
"""

from __future__ import annotations

from django.db import connection


def keep_connection() -> None:
    """Call before each batch of work on this thread's connection."""
    if connection.connection is None or not connection.errors_occurred:
        return
    if connection.in_atomic_block:
        return  # never close under an open transaction; the caller's error handling unwinds it
    if connection.is_usable():
        connection.errors_occurred = False
    else:
        connection.close()
