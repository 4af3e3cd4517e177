"""Routing plans for customer gateways: every rule, in and out, with the rendered XML."""

from __future__ import annotations

import re
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "routing"))

from factories import at, make_snapshot, with_user  # noqa: E402
from kumo_support import without_language
from lxml import etree  # noqa: E402
from planners import (  # noqa: E402
    plan_from_carrier,
    plan_from_gateway,  # noqa: E402
    plan_from_phone,
)

from fsctl.gateways.snapshot import CarriedSnap, GatewaySnap  # noqa: E402
from fsctl.routing.snapshot import Dest  # noqa: E402
from fsctl.xml.dialplan import render  # noqa: E402

OPEN = at("2026-12-01 10:00")  # Tuesday, office open
CLOSED = at("2026-12-01 20:00")
HONSHA = GatewaySnap(7, "honsha", "credentials", 4, numbers=("0355550100", "0355550101"))
OSAKA = GatewaySnap(8, "osaka", "address", 8, "203.0.113.10", 5070, numbers=("0666660100",))
CARRIED = {
    "0355550100": CarriedSnap("0355550100", "+81355550100", "honsha", Dest("schedule", "office")),
    "0355550101": CarriedSnap("0355550101", "+81355550101", "honsha", Dest("user", "102")),
    "0666660100": CarriedSnap("0666660100", "+81666660100", "osaka", Dest("voicemail", "101")),
}


def gw_tenant(**overrides):
    snap = make_snapshot(
        gateways={"honsha": HONSHA, "osaka": OSAKA}, carried=dict(CARRIED), outbound_via="honsha"
    )
    return replace(snap, **overrides)


def apps(plan):
    """The plan's actions without the call-rate limit (realm kumo_rate), which comes on top."""
    return [(a.app, a.data) for a in plan.actions if not a.data.startswith("hash kumo_rate ")]


def bridges(plan):
    return [re.sub(r",pickup/[^,|]+", "", a.data) for a in plan.actions if a.app == "bridge"]


def limits(plan):
    return [data for app, data in apps(plan) if app == "limit"]


def xml_apps(plan):
    root = etree.fromstring(render(plan))
    actions = [(a.get("application"), a.get("data") or "") for a in root.iter("action")]
    return [a for a in actions if not a[1].startswith("hash kumo_rate ")]


# -- inbound from a gateway ------------------------------------------------------------------------
def test_a_carried_number_routes_like_a_did_through_the_schedule_under_the_gateway_plan():
    plan = plan_from_gateway(gw_tenant(), 7, "+81355550100", "0901112222", OPEN, national="0355550100")
    assert plan.refused_by is None and plan.kind == "inbound" and plan.context == "gw_7.acme.kumo.test"
    assert limits(plan) == ["hash kumo_gateway 7 4 !USER_BUSY"]  # not kumo_external: not the carrier's
    assert apps(plan)[:4] == [
        ("set", "kumo_gateway_id=7"),
        ("set", "kumo_gateway=honsha"),
        ("set", "limit_ignore_transfer=true"),
        ("limit", "hash kumo_gateway 7 4 !USER_BUSY"),
    ]
    assert bridges(plan) == ["user/101@acme.kumo.test,user/102@acme.kumo.test"]
    assert without_language(xml_apps(plan)) == apps(plan)
    closed = plan_from_gateway(gw_tenant(), 7, "0355550100", "0901112222", CLOSED, national="0355550100")
    assert ("playback", "kumo/after_hours.wav") in apps(closed)
    assert apps(closed)[-1] == ("voicemail", "default acme.kumo.test 101")


def test_each_carried_number_has_its_own_destination():
    plan = plan_from_gateway(gw_tenant(), 8, "0666660100", "", OPEN, national="0666660100")
    assert limits(plan) == ["hash kumo_gateway 8 8 !USER_BUSY"]
    assert apps(plan)[-1] == ("voicemail", "default acme.kumo.test 101")


def test_a_number_the_gateway_does_not_carry_is_refused():
    tenant = gw_tenant()
    cases = {
        "0666660100": "carried by osaka, not honsha",
        "0312345678": "the tenant's own platform number",
        "0677770000": "another tenant's carried number",
        "0612340000": "another tenant's platform number",
    }
    for national in cases:
        plan = plan_from_gateway(tenant, 7, national, "0901112222", OPEN, national=national)
        assert plan.refused_by == "not_carried", cases[national]
        assert apps(plan) == [("hangup", "UNALLOCATED_NUMBER")]
    plan = plan_from_gateway(tenant, 99, "0355550100", "", OPEN, national="0355550100")
    assert plan.refused_by == "unknown_gateway"


def test_gateway_calls_follow_the_account_rules():
    trial = plan_from_gateway(
        gw_tenant(status="trial", trial_started_on=OPEN.date()),
        7,
        "0355550100",
        "",
        OPEN,
        national="0355550100",
    )
    assert trial.refused_by == "trial_internal_only" and apps(trial) == [("hangup", "CALL_REJECTED")]
    suspended = plan_from_gateway(
        gw_tenant(status="suspended"), 7, "0355550100", "", OPEN, national="0355550100"
    )
    assert suspended.refused_by == "suspended"


def test_the_carrier_does_not_deliver_carried_numbers():
    plan = plan_from_carrier(gw_tenant(), "0355550100", "0901112222", OPEN, national="0355550100")
    assert plan.refused_by == "unknown_did"


# -- outbound --------------------------------------------------------------------------------------
def test_external_calls_leave_through_the_tenants_gateway_with_a_carried_caller_id():
    plan = plan_from_phone(gw_tenant(), "101", "0312349999", OPEN)
    assert plan.kind == "outbound" and plan.refused_by is None
    assert apps(plan) == [
        ("set", "kumo_gateway_id=7"),
        ("set", "kumo_gateway=honsha"),
        ("set", "limit_ignore_transfer=true"),
        ("limit", "hash kumo_gateway 7 4 !USER_BUSY"),
        ("set", "effective_caller_id_number=0355550100"),
        ("set", "hangup_after_bridge=true"),
        ("set", "kumo_gateway_dial=0312349999"),
        ("bridge", "user/honsha@acme.kumo.test"),
    ]
    assert without_language(xml_apps(plan)) == apps(plan)
    assert any(d.what == "outbound route" and "tenant's choice" in d.why for d in plan.decisions)


def test_a_user_may_leave_through_the_carrier_or_another_gateway():
    tenant = gw_tenant(user_outbound_via={"101": None, "102": "osaka"})
    carrier = plan_from_phone(tenant, "101", "0312349999", OPEN)
    assert limits(carrier) == ["hash kumo_external 1 4 !USER_BUSY"]
    assert bridges(carrier) == ["sofia/gateway/carrier/+81312349999"]
    osaka = plan_from_phone(tenant, "102", "09011112222", OPEN)
    assert limits(osaka) == ["hash kumo_gateway 8 8 !USER_BUSY"]
    assert ("set", "effective_caller_id_number=0666660100") in apps(osaka)
    assert bridges(osaka) == ["sofia/carrier/09011112222@203.0.113.10:5070"]


def test_caller_id_through_the_gateway_is_always_one_it_carries():
    tenant = with_user(gw_tenant(), "101", caller_id="0355550101")
    assert ("set", "effective_caller_id_number=0355550101") in apps(
        plan_from_phone(tenant, "101", "0312349999", OPEN)
    )
    tenant = with_user(gw_tenant(), "101", caller_id="0312345678")  # a platform number: not on this line
    assert ("set", "effective_caller_id_number=0355550100") in apps(
        plan_from_phone(tenant, "101", "0312349999", OPEN)
    )
    bare = gw_tenant(gateways={"honsha": replace(HONSHA, numbers=())}, carried={})
    plan = plan_from_phone(bare, "101", "0312349999", OPEN)
    assert plan.refused_by == "gateway_no_number" and apps(plan) == [("hangup", "OUTGOING_CALL_BARRED")]


def test_184_international_and_ipv6_through_a_gateway():
    tenant = gw_tenant(international_calls=True)
    assert ("set", "kumo_gateway_dial=1840312349999") in apps(
        plan_from_phone(tenant, "101", "1840312349999", OPEN)
    )
    assert ("set", "kumo_gateway_dial=010441234567890") in apps(
        plan_from_phone(tenant, "101", "010441234567890", OPEN)
    )
    v6 = gw_tenant(gateways={"osaka": replace(OSAKA, address="2001:db8::10")}, outbound_via="osaka")
    assert bridges(plan_from_phone(v6, "101", "0312349999", OPEN)) == [
        "sofia/carrier/0312349999@[2001:db8::10]:5070"
    ]


def test_restrictions_still_apply_through_a_gateway():
    assert plan_from_phone(gw_tenant(), "101", "010441234567890", OPEN).refused_by == "international_disabled"
    assert plan_from_phone(gw_tenant(), "101", "0570123456", OPEN).refused_by == "blocked_prefix"
    trial = gw_tenant(status="trial", trial_started_on=OPEN.date())
    assert plan_from_phone(trial, "101", "0312349999", OPEN).refused_by == "trial_internal_only"


def test_a_forward_to_an_external_number_uses_the_tenants_route():
    tenant = with_user(gw_tenant(), "102", forward_always=Dest("external", "0901234567"))
    plan = plan_from_gateway(tenant, 7, "0355550101", "0311112222", OPEN, national="0355550101")
    # In through honsha, out again through honsha: the same channel and key count once (mod_hash).
    assert limits(plan) == ["hash kumo_gateway 7 4 !USER_BUSY", "hash kumo_gateway 7 4 !USER_BUSY"]
    assert bridges(plan) == ["user/honsha@acme.kumo.test"]
    assert ("set", "kumo_gateway_dial=0901234567") in apps(plan)


def test_tenants_without_gateways_plan_exactly_as_before():
    plain = make_snapshot()
    plan = plan_from_phone(plain, "101", "0312349999", OPEN)
    assert limits(plan) == ["hash kumo_external 1 4 !USER_BUSY"]
    assert not any(d.what == "outbound route" for d in plan.decisions)


# -- emergency -------------------------------------------------------------------------------------
def test_emergency_goes_through_the_gateway_uncapped_and_falls_back_to_the_carrier():
    tenant = gw_tenant(status="trial", trial_started_on=OPEN.date())  # never blocked, whatever the state
    plan = plan_from_phone(tenant, "101", "110", OPEN)
    assert plan.kind == "emergency" and plan.refused_by is None
    assert apps(plan) == [
        ("set", "kumo_gateway_id=7"),
        ("set", "kumo_gateway=honsha"),
        ("set", "limit_ignore_transfer=true"),
        ("limit", "hash kumo_gateway 7 -1"),  # counted, never refused
        ("set", "effective_caller_id_number=0355550100"),
        ("set", "continue_on_fail=true"),
        ("set", "hangup_after_bridge=true"),
        ("set", "kumo_gateway_dial=110"),
        ("bridge", "user/honsha@acme.kumo.test"),
        ("set", "effective_caller_id_number=+81355550100"),
        ("bridge", "sofia/gateway/carrier/110"),
    ]
    assert without_language(xml_apps(plan)) == apps(plan)


def test_emergency_of_a_carrier_user_or_without_a_geographic_number_uses_the_carrier():
    tenant = gw_tenant(user_outbound_via={"101": None})
    assert bridges(plan_from_phone(tenant, "101", "119", OPEN)) == ["sofia/gateway/carrier/119"]
    ip_only = gw_tenant(
        gateways={"honsha": replace(HONSHA, numbers=("0500000001",))},
        carried={"0500000001": CarriedSnap("0500000001", "+81500000001", "honsha")},
    )
    plan = plan_from_phone(ip_only, "102", "118", OPEN)
    assert bridges(plan) == ["sofia/gateway/carrier/118"] and not limits(plan)


def test_a_phone_dialling_a_number_its_gateway_carries_stays_inside():
    plan = plan_from_phone(gw_tenant(), "101", "0355550101", OPEN)
    assert plan.kind == "internal" and plan.refused_by is None
    assert not limits(plan)  # no gateway channel, no carrier channel
    assert bridges(plan) == ["user/102@acme.kumo.test"]


def test_a_failed_ring_continues_in_the_gateways_own_context():
    from planners import plan_continuation

    tenant = with_user(gw_tenant(), "102", forward_busy=Dest("user", "103"))
    plan = plan_from_gateway(tenant, 7, "0355550101", "0311112222", OPEN, national="0355550101")
    assert apps(plan)[-1] == ("transfer", "kumo-after-102-${originate_disposition} XML gw_7.acme.kumo.test")
    assert without_language(xml_apps(plan)) == apps(plan)
    busy = plan_continuation(
        tenant, "gw_7.acme.kumo.test", "kumo-after-102-USER_BUSY", frozenset(), "0311112222", OPEN
    )
    assert bridges(busy) == ["user/103@acme.kumo.test"]
    assert etree.fromstring(render(busy)).find("section/context").get("name") == "gw_7.acme.kumo.test"
