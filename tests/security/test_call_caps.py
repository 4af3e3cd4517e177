"""Per-tenant external call rate, per-user external calls and spend suspension: plans, XML, loaders."""

from __future__ import annotations

import pytest
from lxml import etree
from planners import load_snapshot, load_snapshot_rows, plan_from_carrier, plan_from_phone
from routing.factories import at, make_snapshot, with_user

from fsctl import models
from fsctl.routing.snapshot import Dest
from fsctl.security.limits import RATE_REALM, USER_REALM
from fsctl.security.tenant_limits import get_limits, set_external_suspended, set_limits
from fsctl.xml.dialplan import render
from fsctl.xmlcurl.store import LookupStore

NOON = at("2026-12-01 12:00")


def limits(plan) -> list[str]:
    return [a.data for a in plan.actions if a.app == "limit"]


def xml_actions(plan) -> list[tuple[str, str]]:
    root = etree.fromstring(render(plan))
    return [(a.get("application"), a.get("data") or "") for a in root.iter("action")]


def test_default_rate_cap_comes_before_the_bridge_with_its_own_realm():
    plan = plan_from_phone(make_snapshot(), "101", "0312349999", NOON)
    assert limits(plan) == [
        f"hash {RATE_REALM} 1 2/1 !NORMAL_TEMPORARY_FAILURE",
        "hash kumo_external 1 4 !USER_BUSY",
    ]
    actions = xml_actions(plan)
    apps = [a for a, _ in actions]
    assert apps.index("limit") < apps.index("bridge")
    assert ("limit", f"hash {RATE_REALM} 1 2/1 !NORMAL_TEMPORARY_FAILURE") in actions


def test_operator_rate_and_per_user_cap():
    snap = make_snapshot(external_rate=(10, 60), user_external_calls=2)
    plan = plan_from_phone(snap, "101", "09012345678", NOON)
    assert f"hash {RATE_REALM} 1 10/60 !NORMAL_TEMPORARY_FAILURE" in limits(plan)
    assert f"hash {USER_REALM} 1_101 2 !USER_BUSY" in limits(plan)
    assert any(d.what == "calls per user" for d in plan.decisions)


def test_rate_cap_zero_means_none_and_internal_calls_have_no_caps():
    snap = make_snapshot(external_rate=(0, 1), user_external_calls=1)
    assert [d for d in limits(plan_from_phone(snap, "101", "0312349999", NOON)) if RATE_REALM in d] == []
    assert limits(plan_from_phone(snap, "101", "102", NOON)) == []


def test_forward_to_an_external_number_is_rate_capped_without_a_user_cap():
    snap = with_user(
        make_snapshot(user_external_calls=1), "101", forward_always=Dest("external", "0312349999")
    )
    plan = plan_from_carrier(snap, "+81312345001", "0311112222", NOON, national="0312345001")
    assert f"hash {RATE_REALM} 1 2/1 !NORMAL_TEMPORARY_FAILURE" in limits(plan)
    assert not any(USER_REALM in d for d in limits(plan))


def test_suspended_external_calls_are_refused_but_internal_inbound_and_emergency_work():
    snap = make_snapshot(external_suspended=True)
    plan = plan_from_phone(snap, "101", "0312349999", NOON)
    assert plan.refused_by == "external_suspended"
    assert ("hangup", "OUTGOING_CALL_BARRED") in xml_actions(plan)
    assert not [a for a in plan.actions if a.app == "bridge"]
    assert plan_from_phone(snap, "101", "102", NOON).refused_by is None
    inbound = plan_from_carrier(snap, "+81312345001", "0311112222", NOON, national="0312345001")
    assert inbound.refused_by is None
    emergency = plan_from_phone(snap, "101", "110", NOON)
    assert emergency.refused_by is None
    assert any(d.what == "bypass external_suspended" for d in emergency.decisions)
    assert any(a.app == "bridge" for a in emergency.actions)


@pytest.mark.parametrize("rule", ["call_rate", "calls_per_user"])
def test_emergency_bypasses_the_rate_and_per_user_caps(rule):
    plan = plan_from_phone(make_snapshot(external_rate=(1, 1), user_external_calls=1), "101", "119", NOON)
    assert any(d.what == f"bypass {rule}" for d in plan.decisions)
    assert limits(plan) == []


def test_limits_reach_both_snapshot_loaders_and_bump_the_config_version(engine, session_factory, make_tenant):
    domain = make_tenant()
    with session_factory() as session:
        tenant = session.query(models.Tenant).filter_by(domain=domain).one()
        version, tid = tenant.config_version, tenant.id
        assert load_snapshot(session, tid).external_rate == (2, 1)
    with session_factory() as session:
        view = set_limits(
            session, domain, "operator@test", calls_per_interval=5, interval_seconds=10, user_external_calls=3
        )
        assert (view.calls_per_interval, view.interval_seconds, view.user_external_calls) == (5, 10, 3)
    with session_factory() as session:
        assert set_external_suspended(session, tid, True, "kumo", "spend alert")
        assert not set_external_suspended(session, tid, True, "kumo", "again")
    store = LookupStore(engine=engine)
    try:
        rows = load_snapshot_rows(store.fetch_all, tid)
    finally:
        store.reset()
    with session_factory() as session:
        orm = load_snapshot(session, tid)
        assert session.get(models.Tenant, tid).config_version > version
        assert get_limits(session, domain).external_suspended
    for snap in (rows, orm):
        assert (snap.external_rate, snap.user_external_calls, snap.external_suspended) == ((5, 10), 3, True)


def test_set_limits_refuses_nonsense(session_factory, make_tenant):
    domain = make_tenant()
    with session_factory() as session:
        with pytest.raises(ValueError):
            set_limits(session, domain, "op", interval_seconds=0)
        with pytest.raises(ValueError):
            set_limits(session, domain, "op", calls_per_interval=-1)
        with pytest.raises(ValueError):
            set_limits(session, domain, "op", max_channels=3)
        with pytest.raises(LookupError):
            set_limits(session, "nobody.kumo.test", "op", calls_per_interval=1)


def test_calls_through_a_customer_gateway_are_capped_and_suspended_too():
    """External = carrier or customer gateway: a stolen password abuses either."""
    from fsctl.gateways.snapshot import CarriedSnap, GatewaySnap

    gateway = GatewaySnap(
        id=7, name="office-pbx", auth="address", channels=4, address="192.0.2.80", numbers=("0355550000",)
    )
    carried = {"0355550000": CarriedSnap("0355550000", "+81355550000", "office-pbx")}
    snap = make_snapshot(
        gateways={"office-pbx": gateway}, carried=carried, outbound_via="office-pbx", user_external_calls=1
    )
    plan = plan_from_phone(snap, "101", "0312349999", NOON)
    bridge = [a.data for a in plan.actions if a.app == "bridge"]
    assert bridge and "gateway/carrier/" not in bridge[0]
    assert f"hash {RATE_REALM} 1 2/1 !NORMAL_TEMPORARY_FAILURE" in limits(plan)
    assert f"hash {USER_REALM} 1_101 1 !USER_BUSY" in limits(plan)
    suspended = plan_from_phone(
        make_snapshot(gateways={"office-pbx": gateway}, outbound_via="office-pbx", external_suspended=True),
        "101",
        "0312349999",
        NOON,
    )
    assert suspended.refused_by == "external_suspended"
