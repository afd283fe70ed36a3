"""Background and periodic jobs of the care app (Huey). Each is idempotent: it reconciles the
records with what is due, so a missed or repeated run does no harm."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

logger = logging.getLogger(__name__)


@db_task()
def place_calls_task(task_ids: list[int]) -> None:
    from . import voice

    voice.place_calls(task_ids)


# 00:05 UTC = 08:05 in Shanghai: the morning's confirmation list is ready when the day shift starts.
@db_periodic_task(crontab(minute="5", hour="0"))
def daily_confirmation_sweep() -> None:
    from .actions.confirmation import run_daily_confirmation

    result = run_daily_confirmation()
    logger.info(
        "daily confirmation: %s due, %s confirmed by life sign, %s opened",
        result.due,
        result.confirmed_by_life_sign,
        len(result.opened),
    )


# 23:30 UTC = 07:30 in Shanghai: the day's calls and visits.
@db_periodic_task(crontab(minute="30", hour="23"))
def care_schedule_sweep() -> None:
    from .actions.schedule import schedule_care_work

    result = schedule_care_work()
    logger.info("care schedule: %s opened, %s moved", len(result.opened), len(result.moved))


@db_periodic_task(crontab(minute="*/5"))
def escalation_sweep() -> None:
    from .actions.confirmation import close_confirmed_tasks, escalate_overdue_tasks

    close_confirmed_tasks()
    escalate_overdue_tasks()


@db_periodic_task(crontab(minute="*"))
def automated_call_results() -> None:
    from . import voice

    voice.collect_call_results()
