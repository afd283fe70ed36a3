"""Access-test factories of the sync app (see pingantong.testing.access_matrix)."""

from __future__ import annotations

from django.utils import timezone


def make_outbox_event_in(region_code: str):
    from pingantong.sync.models import OutboxEvent

    now = timezone.now()
    return OutboxEvent.objects.create(
        topic="client.updated",
        object_type="clients.client",
        object_id="1",
        region_id=region_code,
        payload={},
        created_at=now,
        next_attempt_at=now,
    )


def make_reconciliation_report_in(region_code: str):
    from pingantong.sync.models import ReconciliationReport

    return ReconciliationReport.objects.create(
        region_id=region_code, day=timezone.localdate(), delivered=2, acknowledged=1, missing_remote=["x"]
    )


ACCESS_FACTORIES = {
    "sync.OutboxEvent": make_outbox_event_in,
    "sync.ReconciliationReport": make_reconciliation_report_in,
}

# Shown only on the sync page (function view `sync:index`, `.restrict(user, "view")`).
ACCESS_UNLISTED = {
    "sync.ReconciliationReport": "listed on the sync page (function view sync:index) with .restrict(user, 'view')",
}
