"""Scheduled jobs of the gateway app (Huey)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from pingantong.gateway import partitions


@db_periodic_task(crontab(hour="3", minute="7"))
def maintain_telemetry_partitions() -> dict[str, list[str]]:
    """Every night at 03:07 (before the 03:17 row purge): on PostgreSQL, the next months'
    telemetry partitions exist and months past their retention are dropped (decision 0101)."""
    created = partitions.ensure_partitions()
    dropped = partitions.drop_expired_partitions()
    return {"created": created, "dropped": dropped}
