"""Caller screening in routing: how a carrier signals a caller without a number, 非通知拒否 per number
and per user, the blocklist, and the XML the switch gets for each."""

from __future__ import annotations

from dataclasses import replace

import pytest
from planners import plan_from_carrier
from routing.factories import at, make_snapshot

from fsctl.routing.screening import presentation
from fsctl.routing.snapshot import BlockSnap
from fsctl.xml.dialplan import render

TUESDAY_10 = at("2026-12-01 10:00")


@pytest.mark.parametrize(
    ("fields", "shown"),
    [
        ({"Caller-Caller-ID-Number": "+819012345678", "Caller-Caller-ID-Name": "+819012345678"}, "presented"),
        # 184: the number travels in P-Asserted-Identity with Privacy: id; sofia hides it.
        ({"Caller-Caller-ID-Number": "+819012345678", "Caller-Privacy-Hide-Number": "true"}, "withheld"),
        (
            {
                "Caller-Caller-ID-Number": "anonymous",
                "Caller-Caller-ID-Name": "Anonymous",
                "variable_sip_from_user": "anonymous",
            },
            "withheld",
        ),
        (
            {"Caller-Caller-ID-Number": "anonymous", "variable_sip_from_display": "Coin line/payphone"},
            "payphone",
        ),
        ({"Caller-Caller-ID-Number": "anonymous", "Caller-Caller-ID-Name": "Unavailable"}, "unavailable"),
        (
            {
                "Caller-Caller-ID-Number": "anonymous",
                "Caller-Caller-ID-Name": "Interaction with other service",
            },
            "unavailable",
        ),
        ({"Caller-Caller-ID-Number": ""}, "unavailable"),
    ],
)
def test_how_the_carrier_signals_a_caller_without_a_number(fields, shown):
    assert presentation(fields) == shown


def carrier_call(snap, caller="+819012345678", shown="presented", dialled="+81312345001"):
    national = "0" + dialled[3:]
    return plan_from_carrier(snap, dialled, caller, TUESDAY_10, national=national, shown=shown)


def test_a_withheld_caller_hears_the_request_to_show_their_number_and_the_call_ends():
    snap = make_snapshot(anonymous_refusals={"number:0312345001": frozenset({"withheld"})})
    plan = carrier_call(snap, caller="", shown="withheld")
    assert plan.refused_by == "anonymous_refused"
    assert [(a.app, a.data) for a in plan.actions] == [
        ("set", "kumo_screened=withheld"),
        ("answer", ""),
        ("playback", "kumo/screening_withheld.wav"),
        ("hangup", "CALL_REJECTED"),
    ]
    assert any("caller withheld their number" in d.why for d in plan.decisions)
    xml = render(plan).decode()
    assert 'application="playback" data="kumo/screening_withheld.wav"' in xml
    assert "sound_prefix=" in xml  # in the tenant's prompt language


def test_only_withheld_is_refused_unless_payphone_and_unavailable_are_chosen():
    snap = make_snapshot(anonymous_refusals={"number:0312345001": frozenset({"withheld"})})
    for shown in ("payphone", "unavailable"):
        assert carrier_call(snap, caller="", shown=shown).refused_by is None
    snap = make_snapshot(anonymous_refusals={"number:0312345001": frozenset({"withheld", "payphone"})})
    plan = carrier_call(snap, caller="", shown="payphone")
    assert plan.refused_by == "anonymous_refused"
    assert ("playback", "kumo/screening_no_number.wav") in [(a.app, a.data) for a in plan.actions]
    assert carrier_call(snap, caller="", shown="unavailable").refused_by is None


def test_a_number_without_the_setting_rings_a_withheld_caller():
    plan = carrier_call(make_snapshot(), caller="", shown="withheld")
    assert plan.refused_by is None
    assert any(a.app == "bridge" for a in plan.actions)


def test_a_users_setting_covers_the_number_leading_straight_to_them_unless_the_number_has_its_own():
    snap = make_snapshot(anonymous_refusals={"user:101": frozenset({"withheld"})})
    plan = carrier_call(snap, caller="", shown="withheld")
    assert plan.refused_by == "anonymous_refused"
    assert any("user 101 refuses" in d.why for d in plan.decisions)
    # 0312345678 leads to a schedule, not straight to 101: the user's setting does not apply.
    assert carrier_call(snap, caller="", shown="withheld", dialled="+81312345678").refused_by is None
    # the number's own setting wins over its user's
    snap = replace(
        snap, anonymous_refusals={**snap.anonymous_refusals, "number:0312345001": frozenset({"payphone"})}
    )
    assert carrier_call(snap, caller="", shown="withheld").refused_by is None


def test_a_blocked_caller_is_refused_naming_the_entry():
    snap = make_snapshot(
        blocklist=(BlockSnap("0312345679", False, "reject"), BlockSnap("03123", True, "announce"))
    )
    plan = carrier_call(snap, caller="+81312345678")
    assert plan.refused_by == "blocklist"
    assert plan.decisions[-1].why == "0312345678 is on the blocklist (prefix 03123)"
    assert ("playback", "kumo/screening_blocked.wav") in [(a.app, a.data) for a in plan.actions]
    plan = carrier_call(snap, caller="+81312345679")
    assert plan.decisions[-1].why == "0312345679 is on the blocklist (exact number)"
    assert [(a.app, a.data) for a in plan.actions] == [
        ("set", "kumo_screened=blocked"),
        ("hangup", "CALL_REJECTED"),
    ]
    assert b"playback" not in render(plan)


def test_an_allowed_caller_rings():
    snap = make_snapshot(blocklist=(BlockSnap("03123", True, "announce"),))
    plan = carrier_call(snap, caller="+819012345678")
    assert plan.refused_by is None
    assert any(a.app == "bridge" and "user/101@acme.kumo.test" in a.data for a in plan.actions)


def test_a_withheld_number_the_network_delivered_is_still_matched_against_the_blocklist():
    snap = make_snapshot(blocklist=(BlockSnap("0312345679", False, "reject"),))
    plan = carrier_call(snap, caller="+81312345679", shown="withheld")
    assert plan.refused_by == "blocklist"
    assert carrier_call(snap, caller="", shown="withheld").refused_by is None  # no number: nothing to match
