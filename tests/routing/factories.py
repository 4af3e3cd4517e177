"""Factory functions for routing tests (plain data, no database)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from fsctl.routing.snapshot import Dest, NumberSnap, Period, RingGroupSnap, ScheduleSnap, TenantSnap, UserSnap

JST = ZoneInfo("Asia/Tokyo")


def at(text: str, tz: str = "Asia/Tokyo") -> dt.datetime:
    """'2026-12-01 10:00' in a timezone, as an aware datetime."""
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(tz))


def weekdays_9_to_18() -> tuple[Period, ...]:
    return tuple(Period(day, 9 * 60, 18 * 60) for day in range(5))


def make_user(extension: str, **overrides: Any) -> UserSnap:
    return replace(UserSnap(extension=extension, name=f"User {extension}"), **overrides)


def make_snapshot(**overrides: Any) -> TenantSnap:
    """An active tenant: 101, 102, 103; 0312345678 -> schedule 'office' -> group 'reception'."""
    users = {e: make_user(e) for e in ("101", "102", "103")}
    base = TenantSnap(
        id=1,
        domain="acme.kumo.test",
        name="株式会社アクメ",
        status="active",
        trial_started_on=dt.date(2026, 1, 5),
        max_external_channels=4,
        users=users,
        numbers={
            "0312345678": NumberSnap("0312345678", "+81312345678", "geographic", Dest("schedule", "office")),
            "0312345001": NumberSnap("0312345001", "+81312345001", "geographic", Dest("user", "101")),
        },
        ring_groups={"reception": RingGroupSnap("reception", ("101", "102"), ring_seconds=20)},
        schedules={
            "office": ScheduleSnap(
                "office",
                weekdays_9_to_18(),
                open_destination=Dest("ring_group", "reception"),
                closed_destination=Dest("voicemail", "101"),
            )
        },
        park_ranges=((700, 719),),
    )
    return replace(base, **overrides)


def with_user(snap: TenantSnap, extension: str, **overrides: Any) -> TenantSnap:
    users = dict(snap.users)
    users[extension] = make_user(extension, **overrides)
    return replace(snap, users=users)
