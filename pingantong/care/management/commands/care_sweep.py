"""`pingantong care_sweep`: run the care jobs now (what Huey runs on its schedule), e.g. after an
outage or to open today's work on a fresh installation. Idempotent, like the jobs themselves."""

from __future__ import annotations

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the daily confirmation sweep, the care scheduler and the escalation sweep now."

    def add_arguments(self, parser):
        parser.add_argument("--only", choices=["confirmation", "schedule", "escalation"], default=None)

    def handle(self, *args, **opts):
        from pingantong.care.actions import escalate_overdue_tasks, run_daily_confirmation, schedule_care_work

        only = opts["only"]
        if only in (None, "confirmation"):
            r = run_daily_confirmation()
            self.stdout.write(
                f"confirmation: {r.due} due, {r.confirmed_by_life_sign} confirmed by a life sign, "
                f"{len(r.opened)} tasks opened, {r.already_open} already open"
            )
        if only in (None, "schedule"):
            s = schedule_care_work()
            self.stdout.write(
                f"schedule: {len(s.opened)} calls/visits opened, {len(s.moved)} moved, "
                f"{s.skipped_holiday} skipped for holidays"
            )
        if only in (None, "escalation"):
            self.stdout.write(f"escalation: {len(escalate_overdue_tasks())} tasks escalated")
