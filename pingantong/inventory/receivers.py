"""Reactions to the clients app's domain signals (sent after commit).

- A client moves to another village: their devices' stock records and open installations follow,
  so access (region-scoped) stays with the client's new village.
- A client leaves the service: one maintenance task asks a field worker to collect their devices
  (then `take_back` returns each to stock).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import InstallationStatus, StockState

COLLECT_WITHIN = dt.timedelta(days=7)


def follow_client_region(sender: Any, *, client: Any, fields: Any = (), **kwargs: Any) -> None:
    if fields and "region" not in fields and "region_id" not in fields:
        return
    from .models import Installation, StockItem

    StockItem.objects.filter(client=client, state__in=[StockState.ASSIGNED, StockState.INSTALLED]).exclude(
        region_id=client.region_id
    ).update(region_id=client.region_id)
    Installation.objects.filter(client=client, status=InstallationStatus.OPEN).exclude(
        region_id=client.region_id
    ).update(region_id=client.region_id)


def collect_devices_on_termination(sender: Any, *, client: Any, **kwargs: Any) -> None:
    from pingantong.care.actions import open_task
    from pingantong.care.choices import TaskKind, TaskSource

    from .models import StockItem

    serials = list(
        StockItem.objects.filter(client=client, state__in=[StockState.ASSIGNED, StockState.INSTALLED])
        .order_by("serial")
        .values_list("serial", flat=True)
    )
    if not serials:
        return
    now = timezone.now()
    open_task(
        kind=TaskKind.MAINTENANCE,
        client=client,
        due_at=now + COLLECT_WITHIN,
        reason=_(
            "The client left the service: collect the devices %(serials)s and take them back into stock."
        )
        % {"serials": ", ".join(serials)},
        source=TaskSource.DEVICE,
        source_ref=f"collect:{client.pk}",
        dedupe_key=f"inventory-collect:{client.pk}",
        now=now,
    )


def connect() -> None:
    from pingantong.clients.signals import client_changed, client_terminated

    client_changed.connect(follow_client_region, dispatch_uid="inventory.follow_client_region")
    client_terminated.connect(collect_devices_on_termination, dispatch_uid="inventory.collect_devices")
