"""Do not disturb: the user's phones are not rung; the busy forward, else the no-answer forward, else
voicemail, else busy. Ring groups skip members in do not disturb. *78 / *79 from the phone."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from factories import at, make_snapshot, with_user
from kumo_support import tenant_doc
from lxml import etree
from planners import plan_from_carrier, plan_from_phone

from fsctl.routing.snapshot import Dest, RingGroupSnap
from fsctl.trace import format_text, trace
from fsctl.xml.dialplan import render

OPEN = at("2026-12-01 10:00")  # Tuesday, the office schedule is open


def apps(plan):
    return [(a.app, a.data) for a in plan.actions]


def rung(plan):
    return [a.data for a in plan.actions if a.app == "bridge"]


def test_internal_call_follows_the_busy_forward_first():
    snap = with_user(
        make_snapshot(),
        "102",
        do_not_disturb=True,
        forward_busy=Dest("user", "103"),
        forward_no_answer=Dest("user", "101"),
    )
    plan = plan_from_phone(snap, "101", "102", OPEN)
    assert [b.split(",")[0] for b in rung(plan)] == ["user/103@acme.kumo.test"]
    assert ("102 is in do not disturb", "follows the busy forward to user 103") in [
        (d.what, d.why) for d in plan.decisions
    ]


def test_no_busy_forward_then_the_no_answer_forward():
    snap = with_user(make_snapshot(), "101", do_not_disturb=True, forward_no_answer=Dest("user", "103"))
    plan = plan_from_carrier(snap, "+81312345001", "+819000000000", OPEN, national="0312345001")
    assert [b.split(",")[0] for b in rung(plan)] == ["user/103@acme.kumo.test"]
    assert "user/101@acme.kumo.test" not in "".join(rung(plan))
    assert any(d.why == "follows the no answer forward to user 103" for d in plan.decisions)


def test_no_forward_then_voicemail_without_ringing():
    snap = with_user(make_snapshot(), "102", do_not_disturb=True)
    plan = plan_from_phone(snap, "101", "102", OPEN)
    assert rung(plan) == []
    assert apps(plan)[-1] == ("voicemail", "default acme.kumo.test 102")


def test_no_forward_no_voicemail_the_caller_hears_busy():
    snap = with_user(make_snapshot(), "102", do_not_disturb=True, voicemail_enabled=False)
    plan = plan_from_phone(snap, "101", "102", OPEN)
    assert rung(plan) == []
    assert apps(plan)[-1] == ("hangup", "USER_BUSY")
    doc = etree.fromstring(render(plan))
    assert [a.get("data") for a in doc.iter("action") if a.get("application") == "hangup"] == ["USER_BUSY"]


def test_a_forward_looping_back_is_skipped_for_the_next_one():
    snap = with_user(
        make_snapshot(),
        "102",
        do_not_disturb=True,
        forward_busy=Dest("user", "102"),
        forward_no_answer=Dest("voicemail", "103"),
    )
    plan = plan_from_phone(snap, "101", "102", OPEN)
    assert apps(plan)[-1] == ("voicemail", "default acme.kumo.test 103")


def test_forward_always_still_wins_and_personal_hours_still_apply():
    snap = with_user(make_snapshot(), "102", do_not_disturb=True, forward_always=Dest("user", "103"))
    plan = plan_from_phone(snap, "101", "102", OPEN)
    assert [b.split(",")[0] for b in rung(plan)] == ["user/103@acme.kumo.test"]


def test_ring_group_skips_members_in_do_not_disturb():
    snap = with_user(make_snapshot(), "102", do_not_disturb=True)
    plan = plan_from_carrier(snap, "+81312345678", "+819000000000", OPEN, national="0312345678")
    assert len(rung(plan)) == 1
    assert "user/101@acme.kumo.test" in rung(plan)[0]
    assert "user/102@" not in rung(plan)[0]
    assert ("skip 102", "in do not disturb") in [(d.what, d.why) for d in plan.decisions]


def test_ring_group_all_in_do_not_disturb_goes_to_its_no_answer_destination():
    snap = make_snapshot()
    snap = with_user(snap, "101", do_not_disturb=True)
    snap = with_user(snap, "102", do_not_disturb=True)
    group = RingGroupSnap("reception", ("101", "102"), no_answer=Dest("voicemail", "103"))
    snap = replace(snap, ring_groups={"reception": group})
    plan = plan_from_carrier(snap, "+81312345678", "+819000000000", OPEN, national="0312345678")
    assert rung(plan) == []
    assert apps(plan)[-1] == ("voicemail", "default acme.kumo.test 103")


def test_star78_and_star79_fire_the_setting_and_the_lamp_and_confirm():
    plan = plan_from_phone(make_snapshot(), "101", "*78", OPEN)
    assert plan.kind == "feature"
    events = [a.data for a in plan.actions if a.app == "event"]
    assert events[0] == (
        "Event-Name=CUSTOM,Event-Subclass=kumo::dnd,kumo_domain=acme.kumo.test,kumo_extension=101,kumo_dnd=on"
    )
    lamp = dict(kv.split("=", 1) for kv in events[1].split(","))
    assert lamp["Event-Name"] == "PRESENCE_IN"
    assert (lamp["proto"], lamp["from"], lamp["answer-state"]) == ("dnd", "101@acme.kumo.test", "confirmed")
    assert ("playback", "kumo/dnd_on.wav") in apps(plan)
    off = plan_from_phone(make_snapshot(), "101", "*79", OPEN)
    events = [a.data for a in off.actions if a.app == "event"]
    assert events[0].endswith("kumo_dnd=off")
    assert "answer-state=terminated" in events[1]
    assert ("playback", "kumo/dnd_off.wav") in apps(off)
    # the rendered XML carries the same applications, in order
    doc = etree.fromstring(render(plan))
    rendered = [a.get("application") for a in doc.iter("action")]
    assert rendered[-5:] == ["answer", "event", "event", "playback", "hangup"]


def test_fsctl_trace_explains_it_from_the_stored_tenant(make_tenant, session_factory):
    doc = tenant_doc()
    users = [dict(u) for u in doc["users"]]
    users[0]["do_not_disturb"] = True
    users[0]["forward"] = {"busy": {"user": "102"}}
    make_tenant(users=users)
    # A carrier call to 101's own number (0312345001); 102 is an inbound-only line in this file.
    plan = trace(
        session_factory, "acme.kumo.test", "0901234567", "0312345001", dt.datetime(2026, 12, 1, 10, 0)
    )
    text = format_text(plan)
    assert "101 is in do not disturb" in text and "follows the busy forward to user 102" in text
    assert "user/101@" not in text
