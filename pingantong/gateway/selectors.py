"""Reads for the gateway page (operators and installers): what the gateways hold and receive now.

Everything comes from the database, so the page is true across gateway processes (scaled mode);
the counters of listeners running in *this* process (pingantong.gateway.listeners.metrics) are
added beside them. Every query passes the one region restriction (pingantong.core.access):

* sessions, messages and downlinks are those of devices in the user's regions;
* frames with no registered device (unknown terminals, undecodable bytes) sit, like the
  unknown-device inbox, in the deployment's district (`default_unbound_region_code`), so they count
  for whoever may view raw frames there (district-level installers and administrators) and for
  nobody below.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from pingantong.core.access import region_q, user_may_in_region
from pingantong.devices.models import (
    DeviceState,
    DownlinkCommand,
    RawFrame,
    UnknownDeviceInbox,
    default_unbound_region_code,
)

RATE_WINDOW = timedelta(seconds=60)
MALFORMED_WINDOW = timedelta(hours=24)


def frames_visible_to(user: Any) -> QuerySet[RawFrame]:
    """Raw frames of devices in the user's regions, plus device-less frames for district viewers."""
    policy = RawFrame.access_policy
    q = region_q(user, "view", policy, RawFrame)
    if q is None:
        return RawFrame.objects.all()
    if user_may_in_region(user, "view", RawFrame, default_unbound_region_code()):
        q = q | Q(device__isnull=True)
    return RawFrame.objects.filter(q)


@dataclass
class ListenerRow:
    """One listener: a protocol on one gateway node."""

    protocol: str
    node: str
    sessions: int = 0
    messages: int = 0
    malformed: int = 0

    @property
    def per_second(self) -> float:
        return self.messages / RATE_WINDOW.total_seconds()


@dataclass
class GatewayOverview:
    now: datetime
    rows: list[ListenerRow] = field(default_factory=list)
    by_protocol: list[ListenerRow] = field(default_factory=list)

    @property
    def total(self) -> ListenerRow:
        total = ListenerRow("", "")
        for row in self.by_protocol:
            total.sessions += row.sessions
            total.messages += row.messages
            total.malformed += row.malformed
        return total


def gateway_overview(user: Any, *, now: datetime | None = None) -> GatewayOverview:
    """Connected sessions, messages in the last minute and malformed frames in the last day, per
    protocol and gateway node (listener), within the user's reach."""
    now = now or timezone.now()
    rows: dict[tuple[str, str], ListenerRow] = {}

    def row(protocol: str, node: str) -> ListenerRow:
        return rows.setdefault((protocol, node), ListenerRow(protocol, node))

    sessions = (
        DeviceState.objects.restrict(user, "view")
        .exclude(connected_node="")
        .values_list("device__protocol", "connected_node")
        .annotate(n=Count("pk"))
    )
    for protocol, node, n in sessions:
        row(protocol, node).sessions = n
    frames = frames_visible_to(user)
    recent = (
        frames.filter(received_at__gte=now - RATE_WINDOW, received_at__lte=now)
        .values_list("protocol", "gateway_node")
        .annotate(n=Count("pk"))
    )
    for protocol, node, n in recent:
        row(protocol, node).messages = n
    malformed = (
        frames.filter(received_at__gte=now - MALFORMED_WINDOW, received_at__lte=now)
        .exclude(error="")
        .values_list("protocol", "gateway_node")
        .annotate(n=Count("pk"))
    )
    for protocol, node, n in malformed:
        row(protocol, node).malformed = n
    by_protocol: dict[str, ListenerRow] = defaultdict(lambda: ListenerRow("", ""))
    for (protocol, _node), r in rows.items():
        agg = by_protocol[protocol]
        agg.protocol = protocol
        agg.sessions += r.sessions
        agg.messages += r.messages
        agg.malformed += r.malformed
    return GatewayOverview(
        now=now,
        rows=sorted(rows.values(), key=lambda r: (r.protocol, r.node)),
        by_protocol=sorted(by_protocol.values(), key=lambda r: r.protocol),
    )


def unbound_inbox(user: Any, *, limit: int = 50) -> list[UnknownDeviceInbox]:
    """Unknown terminals not bound yet, most recently heard first."""
    return list(
        UnknownDeviceInbox.objects.restrict(user, "view")
        .filter(bound_device__isnull=True)
        .order_by("-last_seen_at")[:limit]
    )


def recent_downlinks(user: Any, *, limit: int = 20) -> list[DownlinkCommand]:
    """The latest downlink commands and what became of them (sent, confirmed, failed…)."""
    return list(
        DownlinkCommand.objects.restrict(user, "view")
        .select_related("device")
        .order_by("-created_at")[:limit]
    )
