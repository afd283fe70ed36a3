"""Scheduled jobs of the clients app (Huey; discovered by huey.contrib.djhuey)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .actions import apply_due_terminations


@db_periodic_task(crontab(hour="0", minute="5"))
def end_services_due_today() -> int:
    """P4: a termination recorded with a future date takes the client out of service on that date.
    Idempotent: it only touches clients whose date has come and who are not yet terminated."""
    return apply_due_terminations()
