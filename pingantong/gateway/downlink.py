"""Downlink delivery: queued commands (devices.DownlinkCommand) go to devices this node holds.

The database is the source of truth, so it does not matter which process queued the command or
which gateway the device is connected to: every gateway polls (about once a second) for queued
commands of the devices whose `DeviceState.connected_node` is itself, encodes each with the
session's codec and records the device's confirmation: a watch echoes the command type (`CR`,
`UPLOAD`, …), a JT/T 808 terminal answers 0x0001 (or 0x0201 for a position query) carrying our
platform serial. Unconfirmed commands are sent again up to `MAX_ATTEMPTS` times, then failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import close_old_connections
from django.utils import timezone

from pingantong.gateway.protocols.base import DecodedFrame

if TYPE_CHECKING:
    from pingantong.gateway.listeners import Gateway
    from pingantong.gateway.listeners.tcp import Session

log = logging.getLogger("pingantong.gateway.downlink")

POLL_INTERVAL = 1.0
CONFIRM_TIMEOUT = timedelta(minutes=2)
MAX_ATTEMPTS = 3


class UnsupportedCommand(ValueError):
    """The device's protocol has no way to carry this command."""


def encode_watch(codec: Any, kind: str, payload: dict) -> tuple[bytes, str]:
    """(bytes, the type the watch echoes to confirm)."""
    cmd = codec.commands
    if kind == "locate_now":
        return cmd.locate_now(), "CR"
    if kind == "report_interval":
        return cmd.report_interval(int(payload["seconds"])), "UPLOAD"
    if kind == "sos_numbers":
        return cmd.sos_numbers(*payload["numbers"]), "SOS"
    if kind == "clock_zone":
        return cmd.set_timezone(int(payload["minutes"])), "LZ"
    if kind == "call_back":
        return cmd.call_back(payload["phone"]), "MONITOR"
    if kind == "text":
        return cmd.message(payload["text"]), "MESSAGE"
    if kind == "raw":
        return cmd.custom(payload["text"]), payload["text"].split(",")[0]
    raise UnsupportedCommand(kind)


def encode_jt808(codec: Any, kind: str, payload: dict) -> tuple[bytes, str]:
    """(bytes, the platform serial the terminal's 0x0001/0x0201 must carry)."""
    from pingantong.gateway.protocols.jt808.encoder import Jt808Commands

    used: list[int] = []

    def serial() -> int:
        value = codec.next_serial()
        used.append(value)
        return int(value)

    if codec.phone is None:
        raise LookupError("terminal number not known yet")
    cmd = Jt808Commands(codec.phone, serial, version=codec.version)
    if kind == "locate_now":
        data = cmd.locate_now()
    elif kind == "report_interval":
        data = cmd.report_interval(int(payload["seconds"]))
    elif kind == "sos_numbers":
        data = cmd.platform_phone(payload["numbers"][0])
    elif kind == "call_back":
        data = cmd.call_back(payload["phone"])
    elif kind == "text":
        data = cmd.text(payload["text"])
    else:
        raise UnsupportedCommand(f"JT/T 808 terminals take no {kind!r} command")
    return data, str(used[-1])


ENCODERS: dict[str, Callable[[Any, str, dict], tuple[bytes, str]]] = {
    "watch": encode_watch,
    "jt808": encode_jt808,
}


def confirmation_key(protocol: str, frame: DecodedFrame) -> list[str]:
    """What in this frame could confirm a command (see `ENCODERS` for the other side)."""
    if protocol == "watch":
        raw = frame.raw.strip()
        if raw.startswith(b"[") and raw.endswith(b"]"):
            content = raw[1:-1].split(b"*")[-1]
            return [content.split(b",")[0].decode("ascii", "replace")]
        return []
    keys = []
    for event in frame.events:
        serial = event.extra.get("ack_serial", event.extra.get("reply_serial"))
        if serial is not None and event.extra.get("result", 0) in (0, 4):
            keys.append(str(serial))
    return keys


class DownlinkDispatcher:
    """Delivers queued commands to the sessions of one gateway and records confirmations."""

    def __init__(self, gateway: Gateway, *, poll_interval: float = POLL_INTERVAL) -> None:
        self.gateway = gateway
        self.poll_interval = poll_interval
        self._task: asyncio.Task | None = None
        self._background: set[asyncio.Task] = set()
        self._kick = asyncio.Event()
        for listener in gateway.listeners.values():
            listener.add_frame_hook(self.on_frame)
            listener.identified_hooks.append(lambda _session: self._kick.set())

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="downlink")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await asyncio.gather(*self._background, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            try:
                await self.deliver_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("downlink poll failed")
            # A device that just connected is served at once; otherwise poll every interval.
            # `asyncio.timeout`, not `wait_for`: on Python 3.11 `wait_for` loses a cancellation
            # that arrives as the event is set, and `stop` then waited for this loop for ever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval):
                    await self._kick.wait()
            self._kick.clear()

    async def _db(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.gateway.directory._pool, fn, *args)

    async def deliver_once(self) -> int:
        due = await self._db(_due_commands, self.gateway.node, timezone.now())
        sent = 0
        for command in due:
            session = self._session_for(command.device_id)
            if session is None or session.codec is None:
                continue
            try:
                data, expect = ENCODERS[session.listener.protocol](
                    session.codec, command.kind, command.payload
                )
            except (UnsupportedCommand, ValueError, KeyError, LookupError) as exc:
                await self._db(_mark, command.pk, {"status": "failed", "error": str(exc)[:255]})
                continue
            await self._db(
                _mark,
                command.pk,
                {
                    "status": "sent",
                    "sent_at": timezone.now(),
                    "attempts": command.attempts + 1,
                    "expect_reply": expect,
                    "wire_serial": int(expect) if expect.isdigit() else None,
                    "gateway_node": self.gateway.node,
                },
            )
            session.pending_commands[expect] = command.pk
            try:
                await session.send(data)
            except (ConnectionError, OSError):
                await self._db(_mark, command.pk, {"status": "queued"})
                continue
            session.listener.metrics.commands_sent += 1
            sent += 1
        return sent

    def _session_for(self, device_pk: int) -> Session | None:
        for listener in self.gateway.listeners.values():
            session = listener.sessions.get(device_pk)
            if session is not None:
                return session
        return None

    def on_frame(self, session: Session, frame: DecodedFrame) -> None:
        if not session.pending_commands:
            return
        for key in confirmation_key(session.listener.protocol, frame):
            pk = session.pending_commands.pop(key, None)
            if pk is not None:
                session.listener.metrics.commands_confirmed += 1
                task = asyncio.create_task(
                    self._db(_mark, pk, {"status": "confirmed", "confirmed_at": timezone.now()})
                )
                self._background.add(task)
                task.add_done_callback(self._background.discard)


def _due_commands(node: str, now: datetime) -> list[Any]:
    from pingantong.devices.models import DownlinkCommand

    close_old_connections()
    DownlinkCommand.objects.filter(status__in=["queued", "sent"], expires_at__lt=now).update(status="expired")
    stale = DownlinkCommand.objects.filter(
        status="sent", gateway_node=node, sent_at__lt=now - CONFIRM_TIMEOUT
    )
    stale.filter(attempts__gte=MAX_ATTEMPTS).update(status="failed", error="not confirmed by the device")
    stale.update(status="queued")
    return list(
        DownlinkCommand.objects.filter(status="queued", device__state__connected_node=node).order_by("pk")[
            :500
        ]
    )


def _mark(pk: int, fields: dict[str, Any]) -> None:
    from pingantong.devices.models import DownlinkCommand

    close_old_connections()
    DownlinkCommand.objects.filter(pk=pk).update(**fields)
