"""When to call and visit: pure date and time arithmetic (S11, S12, Q2, Q4).

Inside the client's preferred windows, never in the quiet hours; public holidays (the `holidays`
package's China calendar, corrected by HolidayOverride rows) are moved to the next working day or
skipped as configured."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LOCAL = ZoneInfo("Asia/Shanghai")
STEP = dt.timedelta(minutes=15)


@lru_cache(maxsize=16)
def _china(year: int) -> holidays.HolidayBase:
    return holidays.China(years=year)


def holiday_checker(overrides: dict[dt.date, bool] | None = None) -> Callable[[dt.date], bool]:
    """A function day -> is it a public holiday; `overrides` (day -> is_holiday) win."""
    overrides = overrides or {}

    def listed(day: dt.date) -> bool:
        if day in overrides:
            return overrides[day]
        return day in _china(day.year)

    def is_holiday(day: dt.date) -> bool:
        if listed(day):
            return True
        if day in overrides or day.weekday() < 5:
            return False
        # A weekend inside a holiday break (Golden Week's Sunday) belongs to the break: the working
        # days either side of it are both holidays.
        before, after = day - dt.timedelta(days=1), day + dt.timedelta(days=1)
        while before.weekday() >= 5:
            before -= dt.timedelta(days=1)
        while after.weekday() >= 5:
            after += dt.timedelta(days=1)
        return listed(before) and listed(after)

    return is_holiday


def load_holiday_checker() -> Callable[[dt.date], bool]:
    from .models import HolidayOverride

    return holiday_checker(dict(HolidayOverride.objects.values_list("day", "is_holiday")))


def adjust_for_holidays(day: dt.date, policy: str, is_holiday: Callable[[dt.date], bool]) -> dt.date | None:
    """The day to use instead of `day`: the next non-holiday ("move"), None ("skip": this time
    falls out), or `day` itself ("ignore")."""
    if policy == "ignore" or not is_holiday(day):
        return day
    if policy == "skip":
        return None
    for offset in range(1, 15):
        candidate = day + dt.timedelta(days=offset)
        if not is_holiday(candidate):
            return candidate
    return day


def _parse_windows(windows: Iterable[Sequence[str]] | None) -> list[tuple[dt.time, dt.time]]:
    result = []
    for window in windows or ():
        try:
            start, end = (dt.time.fromisoformat(str(v)) for v in window)
        except (TypeError, ValueError):
            continue
        if start < end:
            result.append((start, end))
    return sorted(result)


def in_quiet_hours(moment: dt.time, quiet_start: dt.time | None, quiet_end: dt.time | None) -> bool:
    """Quiet hours may run over midnight (22:00–07:00)."""
    if quiet_start is None or quiet_end is None or quiet_start == quiet_end:
        return False
    if quiet_start < quiet_end:
        return quiet_start <= moment < quiet_end
    return moment >= quiet_start or moment < quiet_end


def call_slot(
    day: dt.date,
    *,
    preferred: Iterable[Sequence[str]] | None,
    quiet_start: dt.time | None,
    quiet_end: dt.time | None,
    default_window: tuple[dt.time, dt.time],
    not_before: dt.datetime | None = None,
) -> dt.datetime | None:
    """The first moment on local `day` inside a preferred window (or the default window) and
    outside the quiet hours, no earlier than `not_before`; None when the day has no such moment."""
    windows = _parse_windows(preferred) or [default_window]
    for start, end in windows:
        moment = dt.datetime.combine(day, start, tzinfo=LOCAL)
        stop = dt.datetime.combine(day, end, tzinfo=LOCAL)
        while moment < stop:
            late_enough = not_before is None or moment >= not_before
            if late_enough and not in_quiet_hours(
                moment.timetz().replace(tzinfo=None), quiet_start, quiet_end
            ):
                return moment.astimezone(dt.UTC)
            moment += STEP
    return None


def next_slot(
    day: dt.date,
    *,
    preferred,
    quiet_start,
    quiet_end,
    default_window,
    is_holiday: Callable[[dt.date], bool],
    policy: str,
    not_before: dt.datetime | None = None,
    max_days: int = 14,
) -> dt.datetime | None:
    """The first call slot on or after `day`, honouring holidays and quiet hours."""
    for offset in range(max_days):
        candidate = adjust_for_holidays(day + dt.timedelta(days=offset), policy, is_holiday)
        if candidate is None:
            return None
        slot = call_slot(
            candidate,
            preferred=preferred,
            quiet_start=quiet_start,
            quiet_end=quiet_end,
            default_window=default_window,
            not_before=not_before,
        )
        if slot is not None:
            return slot
    return None
