"""``pingantong mqtt_forget_node NODE [--url MQTT_URL]``: clear a retired gateway's MQTT session.

In scaled mode a gateway with a stable name keeps a persistent session on the broker, and
Mosquitto keeps handing that session its share of the shared subscription while it is offline
(docs/protocols/mqtt.md, decision 0100). When a node is retired for good, connect once with its
client id and a clean session: the broker drops the session and what was queued for it, and the
remaining gateways get every message.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


async def forget(url: str, node: str) -> None:
    import aiomqtt

    parsed = urlparse(url)
    async with aiomqtt.Client(
        parsed.hostname or "127.0.0.1",
        port=parsed.port or 1883,
        username=parsed.username,
        password=parsed.password,
        identifier=f"pingantong-gateway-{node}"[:64],
        clean_session=True,
    ):
        pass


class Command(BaseCommand):
    help = "Clear the MQTT persistent session of a retired gateway node (scaled mode)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("node", help="the retired node's PINGANTONG_GATEWAY_NODE")
        parser.add_argument("--url", default="", help="broker URL (default: MQTT_URL)")

    def handle(self, *args: Any, **options: Any) -> None:
        url = options["url"] or str(getattr(settings, "MQTT_URL", "") or "")
        if not url:
            raise CommandError("no broker: set MQTT_URL or pass --url")
        try:
            asyncio.run(asyncio.wait_for(forget(url, options["node"]), 10))
        except (OSError, TimeoutError) as exc:
            raise CommandError(f"cannot reach the broker at {url}: {exc}") from None
        except Exception as exc:  # aiomqtt.MqttError and friends: one line, no traceback
            raise CommandError(f"broker refused: {exc}") from None
        self.stdout.write(f"session of pingantong-gateway-{options['node']} cleared")
