"""The console's live channel: every alarm change the user may see, as a rendered queue row.

A console joins one group per region prefix its roles may view alarms in (see `live.py`), so the
live channel keeps the same region scoping as every page. The socket only receives; claims and
steps go through the normal POST views (CSRF, audit, one code path).
"""

from __future__ import annotations

import asyncio
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from pingantong.core.access import _role_prefixes

from . import live
from .models import ALARM_POLICY


def console_groups(user: Any) -> list[str]:
    """The groups a user's console listens to (empty: not allowed to see alarms)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    if user.is_superuser:
        return [live.ALL_GROUP]
    return [f"alarms.{prefix}" for prefix in _role_prefixes(user, ALARM_POLICY.roles_for("view"))]


class AlarmConsumer(AsyncJsonWebsocketConsumer):
    groups_joined: list[str]

    async def connect(self) -> None:
        user = self.scope.get("user")
        self.groups_joined = await database_sync_to_async(console_groups)(user)
        if not self.groups_joined:
            await self.close(code=4403)
            return
        live.register_console_loop(asyncio.get_running_loop())
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "groups": self.groups_joined})

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def alarm_update(self, message: dict[str, Any]) -> None:
        await self.send_json({k: v for k, v in message.items() if k != "type"} | {"type": "alarm"})
