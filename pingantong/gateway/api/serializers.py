"""Gateway API output shapes: the metrics counters, one field per counter of the dataclasses, so
the OpenAPI schema names every counter and cannot drift from `ListenerMetrics`/`IngestMetrics`."""

from __future__ import annotations

import dataclasses

from rest_framework import serializers

from pingantong.gateway.ingest import IngestMetrics
from pingantong.gateway.listeners.metrics import ListenerMetrics

_FIELD_FOR_TYPE: dict[str, type[serializers.Field]] = {
    "int": serializers.IntegerField,
    "float": serializers.FloatField,
    "str": serializers.CharField,
}


def _counters_serializer(name: str, dataclass: type, doc: str) -> type[serializers.Serializer]:
    """A read-only serializer with one field per dataclass field (their annotations are strings
    under `from __future__ import annotations`)."""
    fields = {
        f.name: _FIELD_FOR_TYPE[f.type if isinstance(f.type, str) else f.type.__name__](read_only=True)
        for f in dataclasses.fields(dataclass)
    }
    return type(name, (serializers.Serializer,), {**fields, "__doc__": doc})


ListenerMetricsSerializer = _counters_serializer(
    "ListenerMetricsSerializer", ListenerMetrics, "One listener's counters."
)
IngestMetricsSerializer = _counters_serializer(
    "IngestMetricsSerializer", IngestMetrics, "One ingest node's batch counters and time spent."
)


class GatewayMetricsSerializer(serializers.Serializer):
    """Counters of the listeners and ingestors running in the answering process."""

    listeners = serializers.DictField(child=ListenerMetricsSerializer(), read_only=True)
    ingest = serializers.DictField(child=IngestMetricsSerializer(), read_only=True)


class ListenerRowSerializer(serializers.Serializer):
    """One protocol on one gateway node (or, in `protocols`, one protocol over all nodes)."""

    protocol = serializers.CharField(read_only=True)
    node = serializers.CharField(read_only=True)
    sessions = serializers.IntegerField(read_only=True, help_text="connected devices (DeviceState)")
    messages = serializers.IntegerField(read_only=True, help_text="frames received in the rate window")
    per_second = serializers.FloatField(read_only=True)
    malformed = serializers.IntegerField(read_only=True, help_text="malformed frames in the last 24 h")


class GatewayOverviewSerializer(serializers.Serializer):
    """Figures across every gateway process, from the database, within the user's regions."""

    now = serializers.DateTimeField(read_only=True)
    rate_window_s = serializers.IntegerField(read_only=True)
    listeners = ListenerRowSerializer(many=True, read_only=True, source="rows")
    protocols = ListenerRowSerializer(many=True, read_only=True, source="by_protocol")
    unknown_devices = serializers.IntegerField(read_only=True, help_text="unbound inbox rows in reach")
