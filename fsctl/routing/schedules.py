"""Is a schedule open at a moment? Its override first, then weekly periods in the tenant's timezone,
holidays and closures."""

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


@functools.lru_cache(maxsize=2048)
def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _stamp(local: dt.datetime) -> str:
    # Field by field: formatting a datetime with "%Y-%m-%d %H:%M %Z" runs strftime, twice the cost,
    # and every carrier call to a schedule writes this reason.
    return (
        f"{DAY_NAMES[local.weekday()]} {local.year:04d}-{local.month:02d}-{local.day:02d}"
        f" {local.hour:02d}:{local.minute:02d} {local.tzname() or ''}"
    )


def override_until_text(until: dt.datetime | None, timezone: str) -> str:
    """An override's end on the tenant's wall clock, as trace reasons write it."""
    return "cleared" if until is None else _stamp(local_time(until, timezone))


def evaluate(schedule: ScheduleSnap, timezone: str, now: dt.datetime) -> ScheduleState:
    """Open or closed at `now`, with the reason a person can check: an override that has not
    reached its until decides; past it, the regular hours do (nothing needs saving for it to end)."""
    local = local_time(now, timezone)
    override = schedule.override
    if override is not None and override.applies(local):
        return ScheduleState(
            override.mode == "open",
            f"{override.mode}: override until {override_until_text(override.until, timezone)} ({_stamp(local)})",
            local,
        )
    return regular(schedule, timezone, now)


def regular(schedule: ScheduleSnap, timezone: str, now: dt.datetime) -> ScheduleState:
    """Open or closed at `now` by the periods, holidays and closures alone (any override ignored)."""
    local = local_time(now, timezone)
    day = local.date()
    stamp = _stamp(local)
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


# How far ahead the next regular change is looked for (a closure may last weeks: New Year, summer).
CHANGE_HORIZON_DAYS = 62
# The longest an override set without an until holds by default (a Friday evening's 臨時営業 reaches
# Monday morning's opening).
DEFAULT_OVERRIDE_DAYS = 3


def _candidates(schedule: ScheduleSnap, timezone: str, local: dt.datetime) -> list[dt.datetime]:
    """Every wall-clock moment after `local` where the regular state may change: each local midnight
    (holidays and closures change by day) and each period's start and end, over the horizon."""
    tz = zoneinfo.ZoneInfo(timezone)
    per_day: list[set[int]] = [{0} for _ in range(7)]
    for period in schedule.periods:
        for edge in (period.start_minute, period.end_minute):
            minute = (period.weekday * 1440 + edge) % WEEK_MINUTES
            per_day[minute // 1440].add(minute % 1440)
    found = []
    for offset in range(CHANGE_HORIZON_DAYS + 1):
        day = local.date() + dt.timedelta(days=offset)
        for minute in per_day[day.weekday()]:
            wall = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=tz)
            if wall > local:
                found.append(wall)
    return sorted(found)


def next_regular_change(schedule: ScheduleSnap, timezone: str, now: dt.datetime) -> dt.datetime | None:
    """The first moment after `now` where the regular hours change state (None within the horizon)."""
    local = local_time(now, timezone)
    state = regular(schedule, timezone, local).open
    for moment in _candidates(schedule, timezone, local):
        if regular(schedule, timezone, moment).open != state:
            return moment
    return None


def default_override_until(schedule: ScheduleSnap, mode: str, timezone: str, now: dt.datetime) -> dt.datetime:
    """Until when an override of `mode` holds when nobody says: until the regular hours themselves
    turn to `mode`, after having been the other way. 臨時休業 during open hours ends at closing time;
    pressed in the evening it keeps tomorrow's open hours closed and ends at tomorrow's closing.
    When that is further than DEFAULT_OVERRIDE_DAYS away (a schedule open around the clock but on
    holidays, one that never changes), it holds to the end of the day instead (of tomorrow when
    less than an hour of today is left): an override nobody ended must not last for weeks."""
    local = local_time(now, timezone)
    wanted = mode == "open"
    moment: dt.datetime | None = local
    if regular(schedule, timezone, local).open == wanted:
        moment = next_regular_change(schedule, timezone, local)  # into the other state first
    if moment is not None:
        moment = next_regular_change(schedule, timezone, moment)
    if moment is not None and moment - local <= dt.timedelta(days=DEFAULT_OVERRIDE_DAYS):
        return moment
    tz = zoneinfo.ZoneInfo(timezone)
    midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    if midnight - local < dt.timedelta(hours=1):
        midnight = dt.datetime.combine(local.date() + dt.timedelta(days=2), dt.time(0), tzinfo=tz)
    return midnight
