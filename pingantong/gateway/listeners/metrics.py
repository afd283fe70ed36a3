"""Counters of one gateway process, shown on the gateway page and at /api/v1/gateway/metrics/."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class ListenerMetrics:
    """Per-listener counters (monotonic, except `connections_open`)."""

    protocol: str
    port: int = 0
    connections_open: int = 0
    connections_total: int = 0
    connections_rejected: int = 0
    idle_timeouts: int = 0
    oversize_closes: int = 0
    bytes_in: int = 0
    frames: int = 0
    malformed: int = 0
    warnings: int = 0
    events: int = 0
    stored: int = 0
    acked: int = 0
    unacked_storage_failure: int = 0
    unknown_device_frames: int = 0
    commands_sent: int = 0
    commands_confirmed: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


REGISTRY: dict[str, ListenerMetrics] = {}
"""Every listener's metrics in this process, by listener name."""


def snapshot() -> dict[str, dict]:
    return {name: m.as_dict() for name, m in REGISTRY.items()}
