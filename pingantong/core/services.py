"""Long-running parts that `pingantong run` starts beside the web server.

An app registers an async service in its AppConfig.ready():

    services.register("gateway", start_gateway)   # async def start_gateway(stop: asyncio.Event)

In the embedded default every registered service runs in the web server's event loop; in the
scaled mode each is started on its own (`pingantong run --only gateway`), see docs/deployment.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

ServiceFactory = Callable[[asyncio.Event], Awaitable[None]]


@dataclass(frozen=True)
class Service:
    name: str
    run: ServiceFactory
    description: str = ""


_SERVICES: dict[str, Service] = {}


def register(name: str, run: ServiceFactory, description: str = "") -> None:
    _SERVICES[name] = Service(name=name, run=run, description=description)


def all_services() -> dict[str, Service]:
    return dict(_SERVICES)
