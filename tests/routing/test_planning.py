from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

import pytest
from factories import at, make_snapshot, with_user
from kumo_support import without_language
from lxml import etree
from planners import plan_continuation, plan_from_carrier, plan_from_phone

from fsctl.routing.snapshot import Dest, NumberSnap, Period, RingGroupSnap, ScheduleSnap
from fsctl.xml.dialplan import render

OPEN = at("2026-12-01 10:00")  # Tuesday
CLOSED = at("2026-12-31 20:00")


def apps(plan):
    return [(a.app, a.data) for a in plan.actions]


def bridges(plan):
    """Bridge strings without the tenant's pickup/<group> leg (asserted in test_pickup_and_park)."""
    return [re.sub(r",pickup/[^,|]+", "", a.data) for a in plan.actions if a.app == "bridge"]


def xml_actions(plan):
    doc = etree.fromstring(render(plan))
    return [(a.get("application"), a.get("data") or "") for a in doc.iter("action")]


# -- internal --------------------------------------------------------------------------------------
def test_extension_to_extension_rings_then_voicemail():
    plan = plan_from_phone(make_snapshot(), "101", "102", OPEN)
    assert plan.kind == "internal"
    assert ("set", "call_timeout=20") in apps(plan)
    assert bridges(plan) == ["user/102@acme.kumo.test"]
    assert apps(plan)[-1] == ("voicemail", "default acme.kumo.test 102")
    # What the caller hears is set first: Japanese prompts and phrases, dates in the tenant's clock.
    language = [
        ("set", "default_language=ja"),
        ("set", "sound_prefix=${sounds_dir}/ja/jp"),
        ("set", "timezone=Asia/Tokyo"),
    ]
    assert xml_actions(plan) == [*language, *apps(plan)]


def test_no_voicemail_gives_a_clear_cause():
    snap = with_user(make_snapshot(), "102", voicemail_enabled=False)
    plan = plan_from_phone(snap, "101", "102", OPEN)
    # busy / no answer / unregistered differ, so FreeSWITCH hunts again with the cause.
    assert apps(plan)[-1] == ("transfer", "kumo-after-102-${originate_disposition} XML acme.kumo.test")
    busy = plan_continuation(snap, "acme.kumo.test", "kumo-after-102-USER_BUSY", frozenset(), "101", OPEN)
    assert apps(busy) == [("hangup", "USER_BUSY")]
    no_answer = plan_continuation(
        snap, "acme.kumo.test", "kumo-after-102-NO_ANSWER", frozenset(), "101", OPEN
    )
    assert apps(no_answer) == [("hangup", "NO_ANSWER")]


def test_calls_to_an_outbound_only_user_are_refused():
    snap = with_user(make_snapshot(), "103", direction="outbound_only")
    plan = plan_from_phone(snap, "101", "103", OPEN)
    assert plan.refused_by == "outbound_only_user" and apps(plan) == [("hangup", "INCOMING_CALL_BARRED")]


# -- inbound -------------------------------------------------------------------------------------
def test_representative_number_rings_the_group_simultaneously_in_hours():
    plan = plan_from_carrier(make_snapshot(), "+81312345678", "09011112222", OPEN, national="0312345678")
    assert apps(plan)[0] == ("limit", "hash kumo_external 1 4 !USER_BUSY")
    assert bridges(plan) == ["user/101@acme.kumo.test,user/102@acme.kumo.test"]
    assert any("open: within Tue 09:00-18:00" in d.why for d in plan.decisions)


def test_sequential_group_rings_each_member_in_turn():
    snap = make_snapshot(
        ring_groups={"reception": RingGroupSnap("reception", ("101", "102"), "sequential", 15)}
    )
    plan = plan_from_carrier(snap, "0312345678", "", OPEN, national="0312345678")
    assert bridges(plan) == [
        "[leg_timeout=15]user/101@acme.kumo.test|[leg_timeout=15]user/102@acme.kumo.test"
    ]
    assert ("set", "call_timeout=30") in apps(plan)


def test_individual_did_rings_one_user():
    plan = plan_from_carrier(make_snapshot(), "81312345001", "", OPEN, national="0312345001")
    assert bridges(plan) == ["user/101@acme.kumo.test"]


def test_unknown_did_is_rejected():
    plan = plan_from_carrier(None, "0399999999", "", OPEN, national="0399999999")
    assert plan.refused_by == "unknown_did" and apps(plan) == [("hangup", "UNALLOCATED_NUMBER")]


def test_after_hours_plays_the_announcement_then_the_closed_destination():
    plan = plan_from_carrier(make_snapshot(), "0312345678", "", CLOSED, national="0312345678")
    assert apps(plan)[4:] == [
        ("answer", ""),
        ("playback", "kumo/after_hours.wav"),
        ("voicemail", "default acme.kumo.test 101"),
    ]
    snap = make_snapshot()
    office = replace(
        snap.schedules["office"], closed_announcement="acme/closed.wav", closed_destination=Dest("hangup")
    )
    plan = plan_from_carrier(
        replace(snap, schedules={"office": office}), "0312345678", "", CLOSED, national="0312345678"
    )
    assert ("playback", "acme/closed.wav") in apps(plan) and apps(plan)[-1] == ("hangup", "NORMAL_CLEARING")


def test_an_unsafe_announcement_name_falls_back_to_the_default():
    snap = make_snapshot()
    office = replace(snap.schedules["office"], closed_announcement="x.wav ${system(rm -rf /)}")
    plan = plan_from_carrier(
        replace(snap, schedules={"office": office}), "0312345678", "", CLOSED, national="0312345678"
    )
    assert ("playback", "kumo/after_hours.wav") in apps(plan)


def test_holiday_branch_is_explained():
    plan = plan_from_carrier(make_snapshot(), "0312345678", "", at("2026-11-23 10:00"), national="0312345678")
    assert any("national holiday" in d.why for d in plan.decisions)
    assert ("playback", "kumo/after_hours.wav") in apps(plan)


def test_personal_schedule_skips_the_user_in_groups_and_diverts_direct_calls():
    snap = make_snapshot()
    mornings = ScheduleSnap(
        "mornings",
        tuple(Period(d, 6 * 60, 9 * 60 + 30) for d in range(7)),
        closed_destination=Dest("voicemail", "102"),
    )
    snap = replace(snap, schedules={**snap.schedules, "mornings": mornings})
    snap = with_user(snap, "102", schedule="mornings")
    plan = plan_from_carrier(snap, "0312345678", "", OPEN, national="0312345678")
    assert bridges(plan) == ["user/101@acme.kumo.test"]
    direct = plan_from_phone(snap, "101", "102", OPEN)
    assert bridges(direct) == [] and apps(direct)[-1] == ("voicemail", "default acme.kumo.test 102")


# -- forwarding ---------------------------------------------------------------------------------
def test_forward_always_to_an_extension():
    snap = with_user(make_snapshot(), "102", forward_always=Dest("user", "103"))
    assert bridges(plan_from_phone(snap, "101", "102", OPEN)) == ["user/103@acme.kumo.test"]


def test_forward_loop_is_cut():
    snap = with_user(make_snapshot(), "102", forward_always=Dest("user", "103"))
    snap = with_user(snap, "103", forward_always=Dest("user", "102"))
    plan = plan_from_phone(snap, "101", "102", OPEN)
    assert bridges(plan) == ["user/103@acme.kumo.test"]
    assert any("loop cut" in d.why for d in plan.decisions)


def test_busy_no_answer_and_unregistered_forwards():
    snap = with_user(
        make_snapshot(),
        "102",
        forward_busy=Dest("user", "103"),
        forward_no_answer=Dest("voicemail", "102"),
        forward_no_answer_seconds=12,
        forward_unregistered=Dest("external", "09011112222"),
    )
    plan = plan_from_phone(snap, "101", "102", OPEN)
    assert ("set", "call_timeout=12") in apps(plan)
    cont = {
        cause: plan_continuation(snap, "acme.kumo.test", f"kumo-after-102-{cause}", frozenset(), "101", OPEN)
        for cause in ("USER_BUSY", "NO_ANSWER", "USER_NOT_REGISTERED")
    }
    assert bridges(cont["USER_BUSY"]) == ["user/103@acme.kumo.test"]
    assert apps(cont["NO_ANSWER"])[-1] == ("voicemail", "default acme.kumo.test 102")
    assert bridges(cont["USER_NOT_REGISTERED"]) == ["sofia/gateway/carrier/+819011112222"]
    assert ("limit", "hash kumo_external 1 4 !USER_BUSY") in apps(cont["USER_NOT_REGISTERED"])


def test_external_forward_refused_where_outbound_rules_refuse_it():
    snap = replace(with_user(make_snapshot(), "102", forward_always=Dest("external", "01012025550100")))
    plan = plan_from_phone(snap, "101", "102", OPEN)
    assert plan.refused_by == "international_disabled"
    trial = replace(
        with_user(make_snapshot(), "102", forward_always=Dest("external", "0311112222")),
        status="trial",
        trial_started_on=dt.date(2026, 11, 20),
    )
    assert plan_from_phone(trial, "101", "102", OPEN).refused_by == "trial_internal_only"


# -- outbound ----------------------------------------------------------------------------------------
def test_outbound_with_the_users_caller_id_and_the_channel_limit():
    snap = with_user(make_snapshot(), "101", caller_id="0312345001")
    plan = plan_from_phone(snap, "101", "09012345678", OPEN)
    assert apps(plan) == [
        ("limit", "hash kumo_rate 1 2/1 !NORMAL_TEMPORARY_FAILURE"),  # the default call rate
        ("limit", "hash kumo_external 1 4 !USER_BUSY"),
        ("set", "effective_caller_id_number=+81312345001"),
        ("export", "hold_music=local_stream://moh"),  # the phone's hold (fsctl.routing.hold)
        (
            "export",
            "nolocal:kumo_transfer_tenant=1",
        ),  # the far leg may be transferred (fsctl.routing.transfer)
        ("set", "hangup_after_bridge=true"),
        ("bridge", "sofia/gateway/carrier/+819012345678"),
    ]
    assert without_language(xml_actions(plan)) == apps(plan)


def test_caller_id_never_a_number_the_tenant_does_not_own():
    snap = with_user(make_snapshot(), "101", caller_id="0399998888")
    plan = plan_from_phone(snap, "101", "0311112222", OPEN)
    assert ("set", "effective_caller_id_number=+81312345678") in apps(plan)  # representative number


def test_184_withholds_the_caller_id():
    plan = plan_from_phone(make_snapshot(), "101", "1840311112222", OPEN)
    assert ("privacy", "number") in apps(plan) and bridges(plan) == ["sofia/gateway/carrier/+81311112222"]


@pytest.mark.parametrize(
    ("overrides", "dialled", "rule"),
    [
        ({"status": "trial", "trial_started_on": dt.date(2026, 11, 20)}, "0311112222", "trial_internal_only"),
        ({"status": "suspended"}, "0311112222", "suspended"),
        ({}, "01012025550100", "international_disabled"),
        ({}, "0570123456", "blocked_prefix"),
        ({}, "0990123456", "blocked_prefix"),
        ({}, "177", "blocked_prefix"),
    ],
)
def test_outbound_refusals(overrides, dialled, rule):
    plan = plan_from_phone(make_snapshot(**overrides), "101", dialled, OPEN)
    assert plan.refused_by == rule and apps(plan) == [("hangup", "OUTGOING_CALL_BARRED")]


def test_trial_allows_internal_calls_and_expires_after_30_days():
    trial = make_snapshot(status="trial", trial_started_on=dt.date(2026, 11, 5))
    assert plan_from_phone(trial, "101", "102", at("2026-12-04 10:00")).refused_by is None
    assert plan_from_phone(trial, "101", "102", at("2026-12-05 10:00")).refused_by == "trial_expired"


def test_operator_allowance_and_international_when_enabled():
    snap = make_snapshot(allowed_prefixes=("0570",), international_calls=True)
    assert bridges(plan_from_phone(snap, "101", "0570123456", OPEN)) == ["sofia/gateway/carrier/+81570123456"]
    assert bridges(plan_from_phone(snap, "101", "01012025550100", OPEN)) == [
        "sofia/gateway/carrier/+12025550100"
    ]


def test_inbound_only_user_cannot_dial():
    snap = with_user(make_snapshot(), "102", direction="inbound_only")
    assert plan_from_phone(snap, "102", "101", OPEN).refused_by == "inbound_only_user"


# -- emergency: one test per rule it bypasses --------------------------------------------------------
def _emergency(snap, caller="101"):
    plan = plan_from_phone(snap, caller, "119", OPEN)
    assert plan.refused_by is None and plan.kind == "emergency"
    assert bridges(plan) == ["sofia/gateway/carrier/119"]
    assert not any(a.app == "limit" for a in plan.actions)
    return plan


def test_emergency_bypasses_the_trial():
    _emergency(make_snapshot(status="trial", trial_started_on=dt.date(2026, 11, 20)))


def test_emergency_bypasses_an_expired_trial():
    _emergency(make_snapshot(status="trial", trial_started_on=dt.date(2025, 1, 1)))


def test_emergency_bypasses_suspension():
    _emergency(make_snapshot(status="suspended"))


def test_emergency_bypasses_inbound_only():
    _emergency(with_user(make_snapshot(), "102", direction="inbound_only"), caller="102")


def test_emergency_bypasses_the_channel_limit():
    plan = _emergency(make_snapshot(max_external_channels=0))
    assert any(d.what == "bypass channel_limit" for d in plan.decisions)


def test_emergency_caller_id_falls_back_to_the_operators():
    plan = _emergency(make_snapshot(numbers={}))
    assert ("set", "effective_caller_id_number=+81300000000") in apps(plan)


# -- on-net -----------------------------------------------------------------------------------------
def test_on_net_call_is_internal_free_and_shows_the_company_number():
    other = make_snapshot(
        id=2,
        domain="beta.kumo.test",
        name="Beta",
        numbers={"0362800001": NumberSnap("0362800001", "+81362800001", "geographic", Dest("user", "101"))},
    )
    plan = plan_from_phone(
        make_snapshot(), "101", "0362800001", OPEN, on_net=lambda n: other if n == "0362800001" else None
    )
    assert plan.kind == "on_net"
    assert bridges(plan) == ["user/101@beta.kumo.test"]
    assert not any(a.app == "limit" or "gateway" in a.data for a in plan.actions)
    assert ("set", "effective_caller_id_number=0312345678") in apps(plan)


@pytest.mark.parametrize(
    ("caller_node", "other_node", "through_kamailio"),
    [
        (None, None, False),  # no cluster: exactly as before
        ("node-a", "node-a", False),  # one node holds both tenants' phones
        ("node-a", None, False),  # the other tenant is on no node: Kamailio has no route for it
        ("node-a", "node-b", True),
        (None, "node-b", True),  # a tenant from before the cluster calls a placed one
    ],
)
def test_on_net_across_nodes_goes_out_through_the_carrier_gateway(caller_node, other_node, through_kamailio):
    other = make_snapshot(
        id=2,
        domain="beta.kumo.test",
        name="Beta",
        node=other_node,
        numbers={"0362800001": NumberSnap("0362800001", "+81362800001", "geographic", Dest("user", "101"))},
    )
    plan = plan_from_phone(
        make_snapshot(node=caller_node),
        "101",
        "0362800001",
        OPEN,
        on_net=lambda n: other if n == "0362800001" else None,
    )
    assert plan.kind == "on_net"
    assert not any(a.app == "limit" for a in plan.actions)
    if through_kamailio:
        assert bridges(plan) == ["sofia/gateway/carrier/+81362800001"]
        assert ("set", "effective_caller_id_number=+81312345678") in apps(plan)
        assert any("on-net across nodes" in d.why for d in plan.decisions)
    else:
        assert bridges(plan) == ["user/101@beta.kumo.test"]
        assert ("set", "effective_caller_id_number=0312345678") in apps(plan)


def test_on_net_counts_as_external_for_the_trial():
    other = make_snapshot(id=2, domain="beta.kumo.test")
    trial = make_snapshot(status="trial", trial_started_on=dt.date(2026, 11, 20))
    plan = plan_from_phone(
        trial, "101", "0312345678" if False else "0362800001", OPEN, on_net=lambda n: other
    )
    assert plan.refused_by == "trial_internal_only"


def test_feature_codes_and_park():
    snap = make_snapshot()
    assert apps(plan_from_phone(snap, "101", "*98", OPEN))[-1] == (
        "voicemail",
        "check default acme.kumo.test 101",
    )
    assert apps(plan_from_phone(snap, "101", "710", OPEN))[-1] == ("valet_park", "park@acme.kumo.test 710")
    assert ("intercept", "${hash(select/acme.kumo.test-last_dial_ext/102)}") in apps(
        plan_from_phone(snap, "101", "**102", OPEN)
    )
