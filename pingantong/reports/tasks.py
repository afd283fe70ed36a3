"""Scheduled jobs of the reports app (Huey)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from .retention import purge


@db_periodic_task(crontab(hour="2", minute="30"))
@lock_task("retention-purge")
def purge_expired_records() -> int:
    return sum(run.deleted for run in purge())
