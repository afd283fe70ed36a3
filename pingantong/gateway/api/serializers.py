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
