"""The day/night override (臨時休業 / 臨時営業): routing honours it before, not after, its until."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from factories import at, make_snapshot, weekdays_9_to_18
from lxml import etree
from planners import plan_from_carrier, plan_from_phone

from fsctl.numbering import classify, default_plan
from fsctl.routing.schedules import default_override_until, evaluate, next_regular_change
from fsctl.routing.snapshot import Override, ScheduleSnap
from fsctl.xml.dialplan import render

OFFICE = ScheduleSnap("office", weekdays_9_to_18())
UNTIL = at("2026-12-07 15:00")  # a Monday


def _forced(mode: str, until: dt.datetime | None = UNTIL) -> ScheduleSnap:
    return replace(OFFICE, override=Override(mode, until))


def test_forced_closed_in_open_hours_until_its_until():
    schedule = _forced("closed")
    before = evaluate(schedule, "Asia/Tokyo", at("2026-12-07 14:59"))
    assert not before.open
    assert before.reason.startswith("closed: override until Mon 2026-12-07 15:00 JST")
    # At its until and after, the regular hours decide again; nothing was saved for that.
    assert evaluate(schedule, "Asia/Tokyo", UNTIL).open
    assert evaluate(schedule, "Asia/Tokyo", at("2026-12-07 16:00")).open


def test_forced_open_at_night_and_on_a_holiday():
    schedule = _forced("open", at("2026-11-24 09:00"))
    assert evaluate(schedule, "Asia/Tokyo", at("2026-11-23 10:00")).open  # 勤労感謝の日
    assert evaluate(schedule, "Asia/Tokyo", at("2026-11-23 23:00")).open


def test_without_until_it_holds_until_cleared():
    schedule = _forced("closed", None)
    state = evaluate(schedule, "Asia/Tokyo", at("2027-03-01 10:00"))
    assert not state.open and "until cleared" in state.reason


def test_until_is_an_instant_whatever_the_zone_it_was_written_in():
    schedule = _forced("closed", dt.datetime(2026, 12, 7, 6, 0, tzinfo=dt.UTC))  # 15:00 in Tokyo
    assert not evaluate(schedule, "Asia/Tokyo", at("2026-12-07 14:59")).open
    assert evaluate(schedule, "Asia/Tokyo", at("2026-12-07 15:00")).open


def _office(mode: str, until: dt.datetime | None):
    snap = make_snapshot()
    schedules = {"office": replace(snap.schedules["office"], override=Override(mode, until))}
    return replace(snap, schedules=schedules)


def _bridges(plan) -> list[str]:
    return [a.data for a in plan.actions if a.app in ("bridge", "voicemail")]


def test_a_carrier_call_goes_to_the_closed_destination_while_forced_closed():
    tenant = _office("closed", UNTIL)
    during = plan_from_carrier(
        tenant, "0312345678", "09011112222", at("2026-12-07 14:00"), national="0312345678"
    )
    assert _bridges(during) == ["default acme.kumo.test 101"]  # closed: voicemail of 101
    assert any("override until" in d.why for d in during.decisions)
    after = plan_from_carrier(
        tenant, "0312345678", "09011112222", at("2026-12-07 15:00"), national="0312345678"
    )
    assert any(b.startswith("user/101@acme.kumo.test") for b in _bridges(after))
    # The trace says the override ended and the regular hours decided.
    assert ("override of 'office'", "ended Mon 2026-12-07 15:00 JST; the regular hours apply") in [
        (d.what, d.why) for d in after.decisions
    ]


def test_the_rendered_answer_differs_only_while_the_override_applies():
    plain = make_snapshot()
    forced = _office("open", at("2026-12-08 09:00"))
    night = at("2026-12-07 20:00")
    a = plan_from_carrier(plain, "0312345678", "0900", night, national="0312345678")
    b = plan_from_carrier(forced, "0312345678", "0900", night, national="0312345678")
    c = plan_from_carrier(forced, "0312345678", "0900", at("2026-12-08 08:00"), national="0312345678")
    assert a.actions != b.actions and b.actions == c.actions  # forced open: rings the group
    later = plan_from_carrier(forced, "0312345678", "0900", at("2026-12-08 20:00"), national="0312345678")
    assert later.actions == a.actions  # ended: the same answer as without it


def test_default_until_is_the_next_regular_change_into_that_state():
    monday_2pm = at("2026-12-07 14:00")
    assert next_regular_change(OFFICE, "Asia/Tokyo", monday_2pm) == at("2026-12-07 18:00")
    # 臨時休業 in open hours: closed until closing time.
    assert default_override_until(OFFICE, "closed", "Asia/Tokyo", monday_2pm) == at("2026-12-07 18:00")
    # 臨時休業 in the evening: tomorrow's open hours stay closed, to tomorrow's closing time.
    evening = at("2026-12-07 20:00")
    assert default_override_until(OFFICE, "closed", "Asia/Tokyo", evening) == at("2026-12-08 18:00")
    # 臨時営業 on Friday night: open until the regular hours open (Monday 09:00).
    friday = at("2026-12-11 20:00")
    assert default_override_until(OFFICE, "open", "Asia/Tokyo", friday) == at("2026-12-14 09:00")


def test_default_until_of_a_schedule_that_never_changes_is_the_end_of_the_day():
    always = ScheduleSnap(
        "always",
        tuple(replace(p, start_minute=0, end_minute=1440) for p in OFFICE.periods)
        + tuple(replace(OFFICE.periods[0], weekday=d, start_minute=0, end_minute=1440) for d in (5, 6)),
        closed_on_holidays=False,
    )
    assert default_override_until(always, "closed", "Asia/Tokyo", at("2026-12-07 14:00")) == at(
        "2026-12-08 00:00"
    )


def test_the_feature_codes():
    plan = default_plan()
    tenant = make_snapshot()
    closed = classify("*21", tenant, plan)
    assert (closed.kind, closed.feature, closed.feature_arg) == ("feature", "schedule_closed", None)
    assert classify("*222", tenant, plan).feature_arg == "2"
    assert classify("*23", tenant, plan).feature == "schedule_clear"
    assert classify("*210", tenant, plan).kind == "invalid"  # no schedule 0


def test_dialling_the_code_fires_the_event_for_the_callers_own_tenant():
    tenant = make_snapshot()
    plan = plan_from_phone(tenant, "102", "*21", at("2026-12-07 14:00"))
    assert plan.kind == "feature" and not plan.refused_by
    apps = [(a.app, a.data) for a in plan.actions]
    assert apps[0] == ("answer", "")
    assert apps[1] == (
        "event",
        "Event-Name=CUSTOM,Event-Subclass=kumo::schedule_override,kumo_tenant=1,"
        "kumo_schedule=office,kumo_override=closed,kumo_by=102",
    )
    assert apps[2][0] == "playback" and apps[2][1].startswith("tone_stream://")
    assert apps[-1] == ("hangup", "NORMAL_CLEARING")
    # The renderer's last line of defence lets it through, as one <action> per step.
    document = etree.fromstring(render(plan))
    assert [a.get("application") for a in document.iter("action")][-4:] == [
        "answer",
        "event",
        "playback",
        "hangup",
    ]
    cleared = plan_from_phone(tenant, "102", "*231", at("2026-12-07 14:00"))
    assert "kumo_override=none" in cleared.actions[1].data


def test_a_schedule_number_the_tenant_does_not_have_is_refused():
    plan = plan_from_phone(make_snapshot(), "101", "*222", at("2026-12-07 14:00"))
    assert plan.refused_by == "invalid_number"
    assert [a.app for a in plan.actions] == ["hangup"]
