"""The alarm centre's own settings per region (escalation time, cascade acknowledgement timeout,
join window, SMS to the supervisor on escalation): where they come from, and the one action that
changes them.

The nearest region with an `AlarmCentreSettings` row wins (a town's row over the district's);
without any, the deployment's settings apply. The rows are few (one per district or town), so the
whole table is cached in the process for `CACHE_SECONDS` and read from memory on the SOS path
(`join_or_raise` asks for the join window on every alarm). A change made in this process clears the
cache at once; other processes see it within `CACHE_SECONDS`. Decision 0105.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from pingantong.core.access import user_may_in_region
from pingantong.regions.models import prefix_of

from .models import AlarmCentreSettings

CACHE_SECONDS = 5.0
DISTRICT_DEFAULT = "350404000000"


@dataclass(frozen=True, slots=True)
class CentreSettings:
    """The values in force for one region, and where they come from ("" = deployment defaults)."""

    escalate_after_seconds: int
    cascade_ack_seconds: int
    join_window_seconds: int
    sms_supervisor_on_escalation: bool
    source_region: str = ""


def deployment_defaults() -> CentreSettings:
    return CentreSettings(
        escalate_after_seconds=int(getattr(settings, "PINGANTONG_ALARM_ESCALATE_SECONDS", 45)),
        cascade_ack_seconds=int(getattr(settings, "PINGANTONG_CASCADE_ACK_SECONDS", 120)),
        join_window_seconds=int(getattr(settings, "PINGANTONG_ALARM_JOIN_WINDOW_SECONDS", 900)),
        sms_supervisor_on_escalation=bool(getattr(settings, "PINGANTONG_ALARM_ESCALATION_SMS", True)),
    )


_lock = threading.Lock()
_cache: tuple[float, list[tuple[str, CentreSettings]]] | None = None


def _rows() -> list[tuple[str, CentreSettings]]:
    """(region prefix, settings) for every row, longest prefix first; cached briefly."""
    global _cache
    now = time.monotonic()
    cached = _cache
    if cached is not None and cached[0] > now:
        return cached[1]
    rows = [
        (
            prefix_of(row.region_id),
            CentreSettings(
                escalate_after_seconds=row.escalate_after_seconds,
                cascade_ack_seconds=row.cascade_ack_seconds,
                join_window_seconds=row.join_window_seconds,
                sms_supervisor_on_escalation=row.sms_supervisor_on_escalation,
                source_region=row.region_id,
            ),
        )
        for row in AlarmCentreSettings.objects.all()
    ]
    rows.sort(key=lambda item: len(item[0]), reverse=True)
    with _lock:
        _cache = (now + CACHE_SECONDS, rows)
    return rows


def forget_cache() -> None:
    global _cache
    with _lock:
        _cache = None


def settings_for(region_code: str | None) -> CentreSettings:
    """The settings in force for an alarm in `region_code` (nearest region with a row wins)."""
    code = str(region_code or "")
    for prefix, values in _rows():
        if code.startswith(prefix):
            return values
    return deployment_defaults()


def shortest_escalation_seconds() -> int:
    """The smallest escalation time anywhere: alarms older than that are the candidates."""
    values = [v.escalate_after_seconds for _prefix, v in _rows()]
    return min([deployment_defaults().escalate_after_seconds, *values])


def editable_regions(user: Any) -> list[Any]:
    """The regions whose settings `user` may change: each region they hold an editing role for,
    and the towns/streets below it (a town may differ from its district)."""
    from django.db.models import Q

    from pingantong.regions.models import Region

    from .models import CENTRE_SETTINGS_EDITORS

    if not getattr(user, "is_authenticated", False):
        return []
    if user.is_superuser:
        codes = [DISTRICT_DEFAULT]
    else:
        codes = [code for role, code in user.role_regions() if role in CENTRE_SETTINGS_EDITORS]
    if not codes:
        return []
    below = Q()
    for code in codes:
        below |= Q(code=code) | Q(code__startswith=prefix_of(code), level__lte=4)
    return list(Region.objects.filter(below).order_by("code"))


def update_centre_settings(
    *,
    user: Any,
    region_code: str,
    escalate_after_seconds: int,
    cascade_ack_seconds: int,
    join_window_seconds: int,
    sms_supervisor_on_escalation: bool,
) -> AlarmCentreSettings:
    """Set a region's alarm-centre settings (supervisor or agency administrator of that region).
    One transaction; the change is audit-logged with the user as actor."""
    from auditlog.context import set_actor

    if not user_may_in_region(user, "change", AlarmCentreSettings, region_code):
        raise PermissionDenied(_("You may not change the alarm centre's settings in this region."))
    row = AlarmCentreSettings.objects.filter(region_id=region_code).first() or AlarmCentreSettings(
        region_id=region_code
    )
    row.escalate_after_seconds = escalate_after_seconds
    row.cascade_ack_seconds = cascade_ack_seconds
    row.join_window_seconds = join_window_seconds
    row.sms_supervisor_on_escalation = sms_supervisor_on_escalation
    row.updated_by = user
    row.full_clean(exclude=["region"])
    with set_actor(user), transaction.atomic():
        row.save()
        transaction.on_commit(forget_cache)
    forget_cache()
    return row


def reset_centre_settings(*, user: Any, region_code: str) -> bool:
    """Remove a region's own settings, so that it follows the region above (or the defaults)."""
    from auditlog.context import set_actor

    if not user_may_in_region(user, "delete", AlarmCentreSettings, region_code):
        raise PermissionDenied(_("You may not change the alarm centre's settings in this region."))
    with set_actor(user), transaction.atomic():
        row = AlarmCentreSettings.objects.filter(region_id=region_code).first()
        if row is None:
            return False
        row.delete()
    forget_cache()
    return True
