"""Looking terminals up in the registry from the event loop (in a thread, never blocking it).

Look-ups and connection bookkeeping are batched like ingest: when 10,000 terminals reconnect at
once (a gateway restart, a mobile network outage) they cost a few queries per hundred terminals,
not two writes each.

The bookkeeping writes `DeviceState` rows that the rules stage's appliers write too: both take the
row locks in ascending `device_id` (PostgreSQL: one `SELECT … ORDER BY device_id FOR UPDATE` before
the multi-row UPDATEs, whose own lock order follows the plan), and a transaction aborted by a
deadlock all the same is retried (decision 0112) instead of failing the batch's look-ups (which
closed up to 2,000 connections) and forgetting its disconnections (stale `connected_node`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from django.db import close_old_connections, connection
from django.utils import timezone

from pingantong.gateway.ingest.writelock import writer_turn
from pingantong.gateway.pipeline import atomic_retrying

log = logging.getLogger("pingantong.gateway.directory")


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    pk: int
    tz_offset_minutes: int


IDENTITY_MAX_LENGTH = 64
"""`Device.identity`'s length."""


def is_registrable(identity: str) -> bool:
    """Whether a device with this identity could be in the registry at all."""
    return 0 < len(identity) <= IDENTITY_MAX_LENGTH and "\x00" not in identity


class DeviceDirectory:
    """Registry look-ups and connection bookkeeping for one gateway node."""

    def __init__(self, node: str, threads: int = 1, pool: ThreadPoolExecutor | None = None) -> None:
        self.node = node
        # In tests (in-memory SQLite) the ingest writer's thread is passed in: one thread writes.
        self._own_pool = pool is None
        self._pool = pool or ThreadPoolExecutor(threads, thread_name_prefix="gateway-directory")
        self._lookups: list[tuple[str, str, asyncio.Future]] = []
        self._gone: set[int] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self.transient_retries = 0  # deadlocks / serialization failures retried (decision 0112)

    async def _run_in_pool(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def _ensure_task(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._loop(), name="gateway-directory")

    async def connected(self, protocol: str, identity: str) -> DeviceInfo | None:
        """Look the terminal up; mark it as held by this node (downlinks find it through that)."""
        if not is_registrable(identity):
            # Noise that parsed as a header (a NUL, or longer than any registered identity) can
            # match no device, and must not go into the batched look-up: PostgreSQL refuses NUL
            # in text, which failed the whole batch and closed other terminals' sessions with it.
            return None
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._lookups.append((protocol, identity, future))
        self._ensure_task()
        self._wake.set()
        return await future

    async def disconnected(self, device_pk: int) -> None:
        self.forget(device_pk)

    def forget(self, device_pk: int) -> None:
        """The terminal's connection closed: clear `connected_node` (batched, from the loop)."""
        self._gone.add(device_pk)
        self._ensure_task()
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._lookups or self._gone:
                lookups, self._lookups = self._lookups[:2000], self._lookups[2000:]
                gone, self._gone = self._gone, set()
                try:
                    found = await self._run_in_pool(
                        self._apply, [(p, i) for p, i, _ in lookups], gone, timezone.now()
                    )
                except Exception as exc:
                    if len(lookups) > 1:
                        # One terminal's identity must not fail the others' look-ups: again, alone.
                        log.warning("batched registry look-up failed (%r); looking up one by one", exc)
                        for item in lookups:
                            await self._lookup_alone(item)
                        continue
                    for _p, _i, fut in lookups:
                        if not fut.done():
                            fut.set_exception(exc)
                    continue
                for protocol, identity, fut in lookups:
                    if not fut.done():
                        fut.set_result(found.get((protocol, identity)))

    async def _lookup_alone(self, item: tuple[str, str, asyncio.Future]) -> None:
        protocol, identity, fut = item
        try:
            found = await self._run_in_pool(self._apply, [(protocol, identity)], set(), timezone.now())
        except Exception as exc:
            if not fut.done():
                fut.set_exception(exc)
            return
        if not fut.done():
            fut.set_result(found.get((protocol, identity)))

    def _apply(
        self, lookups: list[tuple[str, str]], gone: set[int], now: datetime
    ) -> dict[tuple[str, str], DeviceInfo]:
        from pingantong.devices.models import Device

        close_old_connections()
        found: dict[tuple[str, str], DeviceInfo] = {}
        by_protocol: dict[str, set[str]] = {}
        for protocol, identity in lookups:
            by_protocol.setdefault(protocol, set()).add(identity)
        for protocol, identities in by_protocol.items():
            rows = Device.objects.filter(protocol=protocol, identity__in=identities).values_list(
                "pk", "identity", "tz_offset_minutes"
            )
            for pk, identity, tz in rows:
                found[(protocol, identity)] = DeviceInfo(pk, tz)
        held = sorted({info.pk for info in found.values()})
        released = sorted(gone - set(held))
        if held or released:
            with writer_turn():
                atomic_retrying(
                    self._bookkeep, held, released, now, what="connection bookkeeping", on_retry=self._retried
                )
        return found

    def _bookkeep(self, held: list[int], released: list[int], now: datetime) -> None:
        """Mark `held` as this node's and clear `released` if still ours, in one transaction that
        locks the rows in ascending device_id (both lists come sorted)."""
        from pingantong.devices.appliers import foreign_keys_checked_now

        with foreign_keys_checked_now():  # a created row share-locks its Device row now, not at COMMIT
            self._write_states(held, released, now)

    def _write_states(self, held: list[int], released: list[int], now: datetime) -> None:
        from pingantong.devices.models import DeviceState

        if held:
            existing = set(DeviceState.objects.filter(device_id__in=held).values_list("device_id", flat=True))
            DeviceState.objects.bulk_create(
                [DeviceState(device_id=pk) for pk in held if pk not in existing], ignore_conflicts=True
            )
        if connection.vendor == "postgresql" and len(held) + len(released) > 1:
            table = connection.ops.quote_name(DeviceState._meta.db_table)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT device_id FROM {table} WHERE device_id = ANY(%s) ORDER BY device_id FOR UPDATE",  # noqa: S608 - table name from model meta, values bound
                    [sorted([*held, *released])],
                )
        if released:
            # Only if still ours: the device may already have reconnected to another node.
            DeviceState.objects.filter(device_id__in=released, connected_node=self.node).update(
                connected_node=""
            )
        if held:
            DeviceState.objects.filter(device_id__in=held).update(
                connected_node=self.node, connected_since=now
            )

    def _retried(self, exc: BaseException) -> None:
        self.transient_retries += 1

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._gone:
            with contextlib.suppress(Exception):
                await self._run_in_pool(self._apply, [], set(self._gone), timezone.now())
        if self._own_pool:
            await self._run_in_pool(_close_connection)
            self._pool.shutdown(wait=True)


def _close_connection() -> None:
    connection.close()
