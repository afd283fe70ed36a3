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


ACCESS_FACTORIES = {"sync.OutboxEvent": make_outbox_event_in}
