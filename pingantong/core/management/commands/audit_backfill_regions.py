"""`pingantong audit_backfill_regions`: give audit entries written before entries carried a region
(decision 0081) the region of their subject, so that region auditors find them. Safe to repeat."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from pingantong.core.audit import backfill_audit_regions


class Command(BaseCommand):
    help = "Record the subject's region on audit entries that have none (where the subject still exists)."

    def handle(self, *args, **options) -> None:
        updated = backfill_audit_regions()
        self.stdout.write(f"{updated} audit entries got their subject's region.")
