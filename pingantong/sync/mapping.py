"""The versioned JSON mapping of our records for the provincial platform (docs/sync.md).

Schema `pat.v1`. Personal identifiers travel only as the platform needs them: the ID number is
sent masked plus its keyed hash (the platform matches on the hash), never in clear.
"""

from __future__ import annotations

from typing import Any

SCHEMA = "pat.v1"


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def client_payload(client) -> dict[str, Any]:
    return {
        "client_id": client.pk,
        "name": client.name,
        "gender": client.gender,
        "id_number_masked": client.id_number_masked,
        "id_number_hash": client.id_number_hmac,
        "birth_date": _iso(client.birth_date),
        "region_code": client.region_id,
        "categories": list(client.categories or []),
        "risk_tier": client.risk_tier,
        "paying_scheme": client.paying_scheme,
        "status": client.status,
        "enrolled_at": _iso(client.enrolled_at),
        "service_end_date": _iso(client.service_end_date),
    }


def alarm_payload(alarm) -> dict[str, Any]:
    return {
        "alarm_id": alarm.pk,
        "client_id": alarm.client_id,
        "alarm_type": alarm.alarm_type,
        "raised_at": _iso(alarm.raised_at),
        "claimed_at": _iso(alarm.claimed_at),
        "closed_at": _iso(alarm.closed_at),
        "outcome": alarm.outcome,
    }


def care_call_payload(call) -> dict[str, Any]:
    return {
        "call_id": call.pk,
        "client_id": call.client_id,
        "at": _iso(call.at),
        "mode": call.mode,
        "result": call.result,
    }


def visit_payload(visit) -> dict[str, Any]:
    return {
        "visit_id": visit.pk,
        "client_id": visit.client_id,
        "completed_at": _iso(visit.completed_at),
        "verified": visit.verified,
    }


def envelope(event) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "id": str(event.idempotency_key),
        "type": event.topic,
        "occurred_at": event.created_at.isoformat(),
        "region_code": event.region_id,
        "data": event.payload,
    }
