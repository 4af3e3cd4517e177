"""Pictures of a schedule: a week timeline of its open hours and a "now open / closed" badge.

The badge asks the routing itself (fsctl.routing.schedules.evaluate, the function that decides real
calls) on the tenant's clock, override included, and says why in the simulator's words (override,
holiday, closure, hours). The
timeline is SVG drawn from the stored periods (presentation attributes, so the panel's CSP, which
allows no inline style, holds); a period past midnight continues on the next day's row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from fsctl import models
from fsctl.routing.schedules import evaluate
from fsctl.schedule_override import default_until, schedule_snap, stored_override
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
class OverrideView:
    """The schedule's override as the page shows it."""

    mode: str | None  # open, closed; None: no override
    active: bool  # it decides calls now
    until: str  # its end on the tenant's clock ("" = until it is ended)
    # Until when 臨時休業 / 臨時営業 pressed now would hold (the next regular change into that state).
    default_closed: str
    default_open: str


@dataclass(frozen=True)
class Picture:
    open_now: bool
    why: str
    rows: list[DayRow]
    now_minute: int
    override: OverrideView | None = None


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def wall_clock(moment: dt.datetime | None, timezone: str) -> str:
    """An instant on the tenant's clock: "Mon 2026/12/07 18:00" (weekday in the user's language)."""
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{weekday_name(WEEKDAY_KEYS[local.weekday()])} {local:%Y/%m/%d %H:%M}"


def override_view(schedule: models.Schedule, timezone: str, now: dt.datetime) -> OverrideView:
    stored = stored_override(schedule)
    return OverrideView(
        mode=stored.mode if stored else None,
        active=stored is not None and stored.applies(now),
        until=wall_clock(stored.until, timezone) if stored else "",
        default_closed=wall_clock(default_until(schedule, "closed", timezone, now), timezone),
        default_open=wall_clock(default_until(schedule, "open", timezone, now), timezone),
    )


def picture(schedule: models.Schedule, timezone: str, now: dt.datetime | None = None) -> Picture:
    now = now or dt.datetime.now(ZoneInfo(timezone))
    if now.tzinfo is None:
        now = now.replace(tzinfo=ZoneInfo(timezone))
    state = evaluate(schedule_snap(schedule), timezone, now)
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
    return Picture(
        state.open,
        why_words(state.reason),
        rows,
        local.hour * 60 + local.minute,
        override_view(schedule, timezone, now),
    )
