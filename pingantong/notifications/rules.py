"""Sending rules as small pure functions: template rendering, quiet hours, deduplication keys.

They take plain values (and `now`) so that tests can drive them with a controlled clock.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models.messages import PLACEHOLDER

LOCAL = ZoneInfo("Asia/Shanghai")
RETRY_DELAYS = (60, 600)  # seconds: transient failures are retried after 60 s, then 10 min
DEDUP_WINDOW = timedelta(minutes=10)
DEFAULT_MAX_PER_HOUR = 10
# No quiet hours unless the recipient has them (RecipientPreference) or the deployment sets a default
# with NOTIFICATIONS_DEFAULT_QUIET_HOURS = "21:00-07:00" in settings.


def missing_params(text: str, params: dict) -> list[str]:
    return sorted({name for name in PLACEHOLDER.findall(text) if str(params.get(name, "")).strip() == ""})


def render(text: str, params: dict) -> str:
    """Fill `${name}` placeholders; a missing parameter is a clear error, not an empty gap."""
    missing = missing_params(text, params)
    if missing:
        raise ValidationError(_("Missing template parameters: %(names)s") % {"names": ", ".join(missing)})
    return PLACEHOLDER.sub(lambda m: str(params[m.group(1)]), text)


def content_hash(*, recipient: str, channel: str, template_code: str, params: dict) -> str:
    blob = json.dumps([recipient, channel, template_code, params], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def quiet_until(now: datetime, start: time | None, end: time | None) -> datetime | None:
    """When quiet hours (local time, may span midnight) are on at `now`, the UTC time they end."""
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(LOCAL)
    t = local.time()
    inside = (start <= t < end) if start < end else (t >= start or t < end)
    if not inside:
        return None
    end_day = local.date() if t < end else local.date() + timedelta(days=1)
    return datetime.combine(end_day, end, tzinfo=LOCAL).astimezone(now.tzinfo)


def retry_delay(attempts: int) -> int | None:
    """Seconds until the next try after `attempts` tries failed transiently, or None: give up."""
    return RETRY_DELAYS[attempts - 1] if 1 <= attempts <= len(RETRY_DELAYS) else None
