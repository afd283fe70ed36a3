"""``pingantong telemetry_partitions [--ahead N] [--drop-expired [--detach-only]] [--now ISO]``

PostgreSQL: create the telemetry tables' monthly partitions for this month and N months ahead
(idempotent), and with ``--drop-expired`` detach and drop the months past their retention
(positions at least 7 days, S09). Prints one JSON object ``{"created": [...], "dropped": [...]}``.
On SQLite it prints empty lists: the tables are plain there. Huey runs the same nightly
(pingantong.gateway.tasks). ``--now`` sets the clock (for dry runs of a future date and tests).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pingantong.gateway import partitions


class Command(BaseCommand):
    help = "Create telemetry partitions ahead and drop expired ones (PostgreSQL; no-op on SQLite)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--ahead", type=int, default=partitions.MONTHS_AHEAD, help="months ahead")
        parser.add_argument("--drop-expired", action="store_true", help="drop months past retention")
        parser.add_argument("--detach-only", action="store_true", help="detach expired months, keep tables")
        parser.add_argument("--now", default="", help="ISO-8601 time to act as now (default: the clock)")

    def handle(self, *args: Any, **options: Any) -> None:
        now = None
        if options["now"]:
            try:
                now = datetime.fromisoformat(options["now"].replace("Z", "+00:00"))
            except ValueError:
                raise CommandError(f"--now: not an ISO-8601 time: {options['now']!r}") from None
            if now.tzinfo is None:
                now = now.replace(tzinfo=UTC)
        if not 0 <= options["ahead"] <= 36:
            raise CommandError("--ahead must be between 0 and 36")
        created = partitions.ensure_partitions(now=now, months_ahead=options["ahead"])
        dropped: list[str] = []
        if options["drop_expired"]:
            dropped = partitions.drop_expired_partitions(now=now, detach_only=options["detach_only"])
        self.stdout.write(json.dumps({"created": created, "dropped": dropped}))
