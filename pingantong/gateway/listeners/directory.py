"""Looking terminals up in the registry from the event loop (in a thread, never blocking it)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from django.db import close_old_connections, connection
from django.utils import timezone


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    pk: int
    tz_offset_minutes: int


class DeviceDirectory:
    """Registry look-ups and connection bookkeeping for one gateway node."""

    def __init__(self, node: str, threads: int = 2, pool: ThreadPoolExecutor | None = None) -> None:
        self.node = node
        # On SQLite the ingest writer's thread is passed in: one thread writes, none waits on a lock.
        self._own_pool = pool is None
        self._pool = pool or ThreadPoolExecutor(threads, thread_name_prefix="gateway-directory")

    async def _run(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def connected(self, protocol: str, identity: str) -> DeviceInfo | None:
        """Look the terminal up; mark it as held by this node (downlinks find it through that)."""
        return await self._run(self._connected, protocol, identity, timezone.now())

    def _connected(self, protocol: str, identity: str, now: datetime) -> DeviceInfo | None:
        from pingantong.devices.models import Device, DeviceState

        close_old_connections()
        row = (
            Device.objects.filter(protocol=protocol, identity=identity)
            .values("pk", "tz_offset_minutes")
            .first()
        )
        if row is None:
            return None
        updated = DeviceState.objects.filter(device_id=row["pk"]).update(
            connected_node=self.node, connected_since=now
        )
        if not updated:
            DeviceState.objects.get_or_create(
                device_id=row["pk"], defaults={"connected_node": self.node, "connected_since": now}
            )
        return DeviceInfo(row["pk"], row["tz_offset_minutes"])

    async def disconnected(self, device_pk: int) -> None:
        await self._run(self._disconnected, device_pk)

    def _disconnected(self, device_pk: int) -> None:
        from pingantong.devices.models import DeviceState

        close_old_connections()
        # Only if still ours: the device may already have reconnected to another node.
        DeviceState.objects.filter(device_id=device_pk, connected_node=self.node).update(connected_node="")

    async def close(self) -> None:
        if self._own_pool:
            for _ in range(2):
                await self._run(_close_connection)
            self._pool.shutdown(wait=True)


def _close_connection() -> None:
    connection.close()
