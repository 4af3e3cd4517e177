from __future__ import annotations

import datetime as dt

from factories import at, weekdays_9_to_18

from fsctl.routing.schedules import evaluate, uncovered_minutes
from fsctl.routing.snapshot import Closure, Period, ScheduleSnap

OFFICE = ScheduleSnap("office", weekdays_9_to_18())


def test_open_on_a_weekday_in_hours_and_closed_after():
    assert evaluate(OFFICE, "Asia/Tokyo", at("2026-12-01 10:00")).open
    state = evaluate(OFFICE, "Asia/Tokyo", at("2026-12-01 18:00"))
    assert not state.open and "outside" in state.reason


def test_evaluated_in_the_tenants_timezone():
    utc_now = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)  # 10:00 in Tokyo
    assert evaluate(OFFICE, "Asia/Tokyo", utc_now).open
    assert not evaluate(OFFICE, "Europe/London", utc_now).open


def test_national_holiday_closes():
    state = evaluate(OFFICE, "Asia/Tokyo", at("2026-11-23 10:00"))  # 勤労感謝の日, a Monday
    assert not state.open and "national holiday" in state.reason


def test_substitute_holiday_when_a_holiday_falls_on_sunday():
    # 2025-05-04 (みどりの日) is a Sunday, so Tuesday 2025-05-06 is a substitute holiday.
    state = evaluate(OFFICE, "Asia/Tokyo", at("2025-05-06 10:00"))
    assert not state.open and "振替休日" in state.reason


def test_citizens_holiday_between_two_holidays():
    state = evaluate(OFFICE, "Asia/Tokyo", at("2026-09-22 10:00"))  # 国民の休日
    assert not state.open and "国民の休日" in state.reason


def test_holidays_can_be_ignored():
    schedule = ScheduleSnap("x", weekdays_9_to_18(), closed_on_holidays=False)
    assert evaluate(schedule, "Asia/Tokyo", at("2026-11-23 10:00")).open


def test_company_closure():
    schedule = ScheduleSnap(
        "x", weekdays_9_to_18(), closures=(Closure(dt.date(2026, 12, 29), dt.date(2027, 1, 3), "年末年始"),)
    )
    state = evaluate(schedule, "Asia/Tokyo", at("2026-12-29 10:00"))
    assert not state.open and "年末年始" in state.reason
    assert evaluate(schedule, "Asia/Tokyo", at("2026-12-28 10:00")).open


def test_period_crossing_midnight_and_the_end_of_the_week():
    night = ScheduleSnap("night", (Period(6, 22 * 60, 30 * 60),))  # Sunday 22:00 -> Monday 06:00
    assert evaluate(night, "Asia/Tokyo", at("2026-12-06 23:00")).open  # Sunday
    assert evaluate(night, "Asia/Tokyo", at("2026-12-07 05:59")).open  # Monday
    assert not evaluate(night, "Asia/Tokyo", at("2026-12-07 06:00")).open


def test_dst_uses_the_wall_clock():
    schedule = ScheduleSnap("ny", weekdays_9_to_18(), closed_on_holidays=False)
    # 2026-03-08 is the US spring-forward Sunday; on Monday 9:30 local is 13:30 UTC (EDT), not 14:30.
    assert evaluate(schedule, "America/New_York", dt.datetime(2026, 3, 9, 13, 30, tzinfo=dt.UTC)).open
    assert not evaluate(schedule, "America/New_York", dt.datetime(2026, 3, 9, 12, 30, tzinfo=dt.UTC)).open
    # Before the change 9:30 local was 14:30 UTC (EST).
    assert evaluate(schedule, "America/New_York", dt.datetime(2026, 3, 6, 14, 30, tzinfo=dt.UTC)).open
    assert not evaluate(schedule, "America/New_York", dt.datetime(2026, 3, 6, 13, 30, tzinfo=dt.UTC)).open


def test_all_days_all_hours_is_always_open_and_fully_covered():
    always = ScheduleSnap("always", tuple(Period(d, 0, 1440) for d in range(7)), closed_on_holidays=False)
    assert evaluate(always, "Asia/Tokyo", at("2026-12-31 03:00")).open
    assert uncovered_minutes(always) == []
    assert uncovered_minutes(OFFICE)[0] == (0, 9 * 60)
