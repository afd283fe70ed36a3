"""Months as the bureau counts them: local (Asia/Shanghai) calendar months, as UTC instants."""

from __future__ import annotations

from datetime import date, datetime, time

from django.utils import timezone


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    first = day.replace(day=1)
    return (
        first.replace(year=first.year + 1, month=1)
        if first.month == 12
        else first.replace(month=first.month + 1)
    )


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """[start, end) of the local month as aware datetimes."""
    tz = timezone.get_default_timezone()
    start = datetime.combine(month_start(month), time.min, tzinfo=tz)
    end = datetime.combine(next_month(month), time.min, tzinfo=tz)
    return start, end


def parse_month(text: str) -> date:
    """`2026-11` → date(2026, 11, 1); ValueError with a clear message otherwise."""
    try:
        year, month = (int(part) for part in text.strip().split("-")[:2])
        return date(year, month, 1)
    except (ValueError, TypeError):
        raise ValueError(f"not a month: {text!r} (expected YYYY-MM)") from None
