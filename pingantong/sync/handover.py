"""Data handover (X4): a full export of a region's project data, in a documented format.

A zip with one JSON-lines file per record type (`clients.jsonl`, `contacts.jsonl`, `alarms.jsonl`,
`care_calls.jsonl`, `visits.jsonl`, `tasks.jsonl`, `devices.jsonl`, `settlements.jsonl`) and a
`manifest.json` (schema version, region, time, counts). Rows are written as they are read, to a
temporary file, so a district's data never sits in memory whole. ID numbers are masked.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from collections.abc import Iterator
from typing import IO

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

FORMAT_VERSION = "pat-handover.v1"


def _tables(prefix: str) -> dict[str, tuple[object, list[str]]]:
    from pingantong.alarms.models import Alarm
    from pingantong.care.models import CareCall, Task, Visit
    from pingantong.clients.models import Client, Contact
    from pingantong.devices.models import Device
    from pingantong.reports.models import Settlement

    def q(model, field="region__code__startswith"):
        return model.objects.filter(**{field: prefix})

    return {
        "clients": (
            q(Client),
            [
                "id",
                "name",
                "gender",
                "id_number_masked",
                "birth_date",
                "region_id",
                "address",
                "categories",
                "risk_tier",
                "paying_scheme",
                "status",
                "enrolled_at",
                "service_end_date",
            ],
        ),
        "contacts": (
            q(Contact, "client__region__code__startswith"),
            ["id", "client_id", "name", "relation", "priority", "is_street_designated"],
        ),
        "alarms": (
            q(Alarm),
            [
                "id",
                "alarm_type",
                "client_id",
                "region_id",
                "raised_at",
                "claimed_at",
                "closed_at",
                "outcome",
                "note",
            ],
        ),
        "care_calls": (q(CareCall), ["id", "client_id", "at", "mode", "result", "mood", "health", "notes"]),
        "visits": (
            q(Visit),
            ["id", "client_id", "worker_id", "status", "checked_in_at", "verified", "completed_at", "notes"],
        ),
        "tasks": (q(Task), ["id", "kind", "client_id", "due_at", "status", "outcome", "completed_at"]),
        "devices": (
            Device.objects.filter(client__region__code__startswith=prefix),
            ["id", "protocol", "identity", "client_id"],
        ),
        "settlements": (
            q(Settlement),
            [
                "id",
                "month",
                "status",
                "person_months",
                "basic_amount",
                "installation_amount",
                "client_paid_amount",
            ],
        ),
    }


def _rows(queryset, fields: list[str]) -> Iterator[dict]:
    yield from queryset.order_by("pk").values(*fields).iterator(chunk_size=2000)


def build_handover(*, region_code: str) -> tuple[IO[bytes], dict]:
    from pingantong.regions.models import prefix_of

    prefix = prefix_of(region_code)
    spool = tempfile.TemporaryFile(suffix=".zip")  # noqa: SIM115 - returned open to the caller
    counts = {}
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, (queryset, fields) in _tables(prefix).items():
            count = 0
            with archive.open(f"{name}.jsonl", "w") as handle:
                for row in _rows(queryset, fields):
                    handle.write(json.dumps(row, cls=DjangoJSONEncoder, ensure_ascii=False).encode() + b"\n")
                    count += 1
            counts[name] = count
        manifest = {
            "format": FORMAT_VERSION,
            "region_code": region_code,
            "exported_at": timezone.now().isoformat(),
            "counts": counts,
        }
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
    spool.seek(0)
    return spool, manifest
