"""Recording the life signs that care work observes (S04): answered calls, visits."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError

from ..choices import LifeSignSource
from ..models import LifeSign


def record_life_sign(
    *, client: Any, at: dt.datetime, source: str, evidence: dict | None = None, by: Any | None = None
) -> LifeSign:
    """The client was seen or heard at `at`. Evidence names what proved it (the call, the visit)."""
    if source not in LifeSignSource.values:
        raise ValidationError({"source": f"Unknown life-sign source {source!r}."})
    return LifeSign.objects.create(
        client=client,
        region_id=client.region_id,
        at=at,
        source=source,
        evidence=evidence or {},
        recorded_by=by,
    )
