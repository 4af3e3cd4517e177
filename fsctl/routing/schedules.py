"""Is a schedule open at a moment? Weekly periods in the tenant's timezone, holidays, closures."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from dataclasses import dataclass

import jpholiday

from fsctl.routing.snapshot import ScheduleSnap

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEK_MINUTES = 7 * 1440


@dataclass(frozen=True)
class ScheduleState:
    open: bool
    reason: str
    local_time: dt.datetime


def local_time(now: dt.datetime, timezone: str) -> dt.datetime:
    """`now` on the tenant's wall clock (a naive `now` is taken as already local)."""
    tz = zoneinfo.ZoneInfo(timezone)
    if now.tzinfo is None:
        return now.replace(tzinfo=tz)
    return now.astimezone(tz)


@functools.lru_cache(maxsize=4096)
def holiday_name(day: dt.date) -> str | None:
    """The Japanese national holiday on `day` (substitute and citizens' holidays included), or None."""
    return jpholiday.is_holiday_name(day)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def evaluate(schedule: ScheduleSnap, timezone: str, now: dt.datetime) -> ScheduleState:
    """Open or closed at `now`, with the reason a person can check."""
    local = local_time(now, timezone)
    day = local.date()
    stamp = f"{DAY_NAMES[local.weekday()]} {local:%Y-%m-%d %H:%M %Z}"
    for closure in schedule.closures:
        if closure.first_day <= day <= closure.last_day:
            label = f" {closure.name!r}" if closure.name else ""
            return ScheduleState(
                False,
                f"closed: company closure{label} {closure.first_day}..{closure.last_day} ({stamp})",
                local,
            )
    if schedule.closed_on_holidays:
        name = holiday_name(day)
        if name:
            return ScheduleState(False, f"closed: national holiday {name} ({stamp})", local)
    # Wall-clock minutes of the week: DST changes move the instant, never the opening hours.
    minute = local.weekday() * 1440 + local.hour * 60 + local.minute
    for period in schedule.periods:
        start = period.weekday * 1440 + period.start_minute
        end = period.weekday * 1440 + period.end_minute
        if start <= minute < end or start <= minute + WEEK_MINUTES < end:
            hours = f"{DAY_NAMES[period.weekday]} {_hhmm(period.start_minute)}-{_hhmm(period.end_minute % 1440 if period.end_minute != 1440 else 1440)}"
            return ScheduleState(True, f"open: within {hours} ({stamp})", local)
    return ScheduleState(False, f"closed: outside the open hours ({stamp})", local)


def uncovered_minutes(schedule: ScheduleSnap) -> list[tuple[int, int]]:
    """Minute-of-week ranges no period covers (for the full-coverage check at save time)."""
    covered = [False] * WEEK_MINUTES
    for period in schedule.periods:
        for m in range(
            period.weekday * 1440 + period.start_minute, period.weekday * 1440 + period.end_minute
        ):
            covered[m % WEEK_MINUTES] = True
    gaps: list[tuple[int, int]] = []
    start = None
    for m, ok in enumerate([*covered, True]):
        if not ok and start is None:
            start = m
        elif ok and start is not None:
            gaps.append((start, m))
            start = None
    return gaps
