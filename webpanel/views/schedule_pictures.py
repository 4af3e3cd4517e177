"""Pictures of a schedule: a week timeline of its open hours and a "now open / closed" badge.

The badge asks the routing itself (fsctl.routing.schedules.evaluate, the function that decides real
calls) on the tenant's clock, and says why in the simulator's words (holiday, closure, hours). The
timeline is SVG drawn from the stored periods (presentation attributes, so the panel's CSP, which
allows no inline style, holds); a period past midnight continues on the next day's row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from fsctl import models
from fsctl.routing.schedules import evaluate
from fsctl.routing.snapshot import Closure, Period, ScheduleSnap
from webpanel.i18n import WEEKDAY_KEYS, weekday_name
from webpanel.trace_words import why_words

DAY = 1440


@dataclass(frozen=True)
class DayRow:
    key: str
    name: str
    segments: list[tuple[int, int]]  # (start minute, length) within the day
    hours: str  # "09:00–18:00, 22:00–24:00", for screen readers and the table
    today: bool


@dataclass(frozen=True)
class Picture:
    open_now: bool
    why: str
    rows: list[DayRow]
    now_minute: int


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _snap(schedule: models.Schedule) -> ScheduleSnap:
    return ScheduleSnap(
        name=schedule.name,
        periods=tuple(Period(p.weekday, p.start_minute, p.end_minute) for p in schedule.periods),
        closures=tuple(Closure(c.first_day, c.last_day, c.name) for c in schedule.closures),
        closed_on_holidays=schedule.closed_on_holidays,
    )


def picture(schedule: models.Schedule, timezone: str, now: dt.datetime | None = None) -> Picture:
    now = now or dt.datetime.now(ZoneInfo(timezone))
    state = evaluate(_snap(schedule), timezone, now)
    local = state.local_time
    per_day: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    for period in schedule.periods:
        start = period.weekday * DAY + period.start_minute
        end = period.weekday * DAY + period.end_minute
        for day in range(7):  # clip [start, end) to each day of the week, wrapping Sunday -> Monday
            for offset in (0, 7 * DAY):
                lo = max(start, day * DAY + offset)
                hi = min(end, (day + 1) * DAY + offset)
                if lo < hi:
                    per_day[day].append((lo - day * DAY - offset, hi - lo))
    rows = []
    for day, key in enumerate(WEEKDAY_KEYS):
        segments = sorted(per_day[day])
        hours = ", ".join(f"{_hhmm(s)}–{_hhmm(s + n)}" for s, n in segments)
        rows.append(DayRow(key, weekday_name(key), segments, hours, day == local.weekday()))
    return Picture(state.open, why_words(state.reason), rows, local.hour * 60 + local.minute)
