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

import os
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections
from django.db.backends.signals import connection_created


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


# --- SQLite WAL checkpoints: the gateway's checkpointer only ----------------------------------
#
# A connection whose commit leaves SQLite's write-ahead log over 1,000 pages runs a checkpoint
# inside that commit (copying pages, fdatasync). At gateway load the log passes that mark every
# second, so the ingest writer's commits (on the path to the ACKs) and the rules process's
# (holding the write-lock turn the writer waits for) took turns paying for it: 10-20 ms a time,
# 14 % of a native profile of the rules process. While a gateway's checkpointer runs
# (`Ingestor._checkpoint_wal`, every second, beside the writers), this process's SQLite
# connections and its rules process's leave checkpoints to it (decision 0120).

_checkpointers = 0
_child_of_a_gateway = False


def _no_autocheckpoint(sender: Any, connection: Any, **kwargs: Any) -> None:
    wanted = bool(_checkpointers or _child_of_a_gateway)
    if wanted and connection.vendor == "sqlite" and not connection.is_in_memory_db():
        connection.connection.execute("PRAGMA wal_autocheckpoint=0")


def checkpointer_started() -> None:
    """A gateway's checkpointer runs in this process: connections opened from now on (and the
    ones open now) leave checkpoints to it."""
    global _checkpointers
    _checkpointers += 1
    _watch_connections()


def checkpointer_stopped() -> None:
    global _checkpointers
    _checkpointers = max(0, _checkpointers - 1)


def leave_checkpoints_to_the_parent_gateway() -> None:
    """In a gateway's child process (the rules process): the parent's checkpointer does them."""
    global _child_of_a_gateway
    _child_of_a_gateway = True
    _watch_connections()


def _watch_connections() -> None:
    _on_every_connection(_no_autocheckpoint, "pingantong-gateway-wal")


def _on_every_connection(handler: Any, uid: str) -> None:
    """Apply `handler` to connections opened from now on, and to this thread's open ones."""
    connection_created.connect(handler, dispatch_uid=uid)
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None:
            handler(None, conn)


# --- PostgreSQL: the planner's price of an index look-up ----------------------------------------
#
# The rules stage and the writer look up a batch's devices by key (`device_id = ANY(…)`, an
# UPDATE joined to `unnest(…)`): about 500 of the 10,000 rows of the benchmark's registry. With
# PostgreSQL's default `random_page_cost` (4, priced for spinning disks) the planner chose to scan
# the whole device and device-state tables for each batch (~30 scans a second at 5,000 messages a
# second, with the state table's dead row versions), where the rows sit in shared buffers. 1.1 is
# the value commonly set for solid-state storage; these processes' sessions use it (decision 0133).

DEFAULT_RANDOM_PAGE_COST = "1.1"


def random_page_cost() -> str:
    """`PINGANTONG_GATEWAY_PG_RANDOM_PAGE_COST`: the value, or "" to leave the server's."""
    value = os.environ.get("PINGANTONG_GATEWAY_PG_RANDOM_PAGE_COST", DEFAULT_RANDOM_PAGE_COST).strip()
    if value:
        try:
            if float(value) <= 0:
                raise ValueError(value)
        except ValueError:
            raise ImproperlyConfigured(
                f"PINGANTONG_GATEWAY_PG_RANDOM_PAGE_COST={value!r}: a positive number (PostgreSQL's "
                "random_page_cost), or empty to leave the server's"
            ) from None
    return value


_page_cost = ""  # the value this process's sessions set ("" = none), from `random_page_cost()`


def _planner_costs(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "postgresql" and _page_cost:
        with connection.connection.cursor() as cursor:
            cursor.execute(f"SET random_page_cost = {float(_page_cost)}")


def price_index_lookups_for_solid_state() -> None:
    """In a gateway's writer or rules process: PostgreSQL sessions opened from now on (and the open
    ones) use `random_page_cost()`."""
    global _page_cost
    _page_cost = random_page_cost()
    _on_every_connection(_planner_costs, "pingantong-gateway-planner")
