"""Voicemail entry points in routing: leave vs. login, PINs, ring groups, forwarding tricks."""

from __future__ import annotations

import datetime as dt

import pytest
from lxml import etree
from planners import plan_continuation, plan_from_carrier, plan_from_phone

from fsctl.routing.snapshot import Dest, NumberSnap, RingGroupSnap, TenantSnap, UserSnap
from fsctl.xml.dialplan import render

NOW = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)


def tenant(**users: UserSnap) -> TenantSnap:
    base = {e: UserSnap(e, f"User {e}") for e in ("101", "102", "103")}
    base.update(users)
    return TenantSnap(
        id=1,
        domain="acme.kumo.test",
        name="Acme",
        users=base,
        numbers={
            "0312345001": NumberSnap("0312345001", "+81312345001", "geographic", Dest("user", "101")),
            "0312345678": NumberSnap("0312345678", "+81312345678", "geographic", Dest("ring_group", "sales")),
        },
        ring_groups={"sales": RingGroupSnap("sales", ("102", "103"), no_answer=Dest("voicemail", "103"))},
    )


def voicemail_actions(plan) -> list[str]:
    return [a.data for a in plan.actions if a.app == "voicemail"]


def test_own_box_needs_the_pin():
    plan = plan_from_phone(tenant(), "101", "*98", NOW)
    apps = [(a.app, a.data) for a in plan.actions]
    assert apps[-2:] == [
        ("set", "voicemail_authorized=false"),
        ("voicemail", "check default acme.kumo.test 101"),
    ]
    # no `auth` keyword: mod_voicemail asks for the PIN
    assert "auth" not in voicemail_actions(plan)[0].split()
    root = etree.fromstring(render(plan))
    assert root.find(".//action[@application='voicemail']").get("data") == "check default acme.kumo.test 101"


def test_star99_leaves_a_message_and_never_logs_in():
    assert voicemail_actions(plan_from_phone(tenant(), "101", "*99102", NOW)) == [
        "default acme.kumo.test 102"
    ]


@pytest.mark.parametrize(
    "forward",
    [
        Dest("voicemail", "101"),
        Dest("external", "0312345001"),
        Dest("user", "101"),
        Dest("external", "*98"),
        Dest("external", "*99101"),
    ],
)
def test_forwarding_to_ones_own_number_never_opens_the_mailbox(forward):
    snap = tenant(**{"101": UserSnap("101", "A", forward_always=forward, forward_no_answer=forward)})
    plans = [
        plan_from_phone(snap, "101", "101", NOW),
        plan_from_phone(snap, "102", "101", NOW),
        plan_from_carrier(snap, "0312345001", "09012345678", NOW, national="0312345001"),
    ]
    plans += [
        plan_continuation(snap, "acme.kumo.test", f"kumo-after-101-{cause}", frozenset(), "102", NOW)
        for cause in ("NO_ANSWER", "USER_BUSY")
    ]
    for plan in plans:
        for data in voicemail_actions(plan):
            assert not data.startswith("check") and "auth" not in data.split(), (forward, data)
        assert ("set", "voicemail_authorized=true") not in [(a.app, a.data) for a in plan.actions]


def test_ring_group_goes_to_the_groups_chosen_mailbox():
    plan = plan_from_carrier(tenant(), "0312345678", "09012345678", NOW, national="0312345678")
    apps = [(a.app, a.data) for a in plan.actions]
    (dial,) = [data for app, data in apps if app == "bridge"]
    assert dial.startswith("user/102@acme.kumo.test,user/103@acme.kumo.test")
    assert apps[-1] == ("voicemail", "default acme.kumo.test 103")


def test_same_extension_in_two_tenants_are_two_mailboxes():
    other = TenantSnap(id=2, domain="beta.kumo.test", name="Beta", users={"101": UserSnap("101", "B")})
    assert voicemail_actions(plan_from_phone(other, "101", "*98", NOW)) == [
        "check default beta.kumo.test 101"
    ]
    assert voicemail_actions(plan_from_phone(tenant(), "101", "*98", NOW)) == [
        "check default acme.kumo.test 101"
    ]
