"""A number's snapshot (only the users a call to it can reach) routes a carrier call exactly as the
tenant's whole snapshot does, and holds no user the call cannot reach."""

from __future__ import annotations

import datetime as dt

import pytest
from planners import plan_from_carrier

from fsctl.snapshots import session_rows
from fsctl.wiring import snapshots

OPEN = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)  # Tuesday 10:00 in Tokyo
CLOSED = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)  # Tuesday 21:00 in Tokyo


def _user(extension: str, **extra) -> dict:
    return {
        "extension": extension,
        "name": f"user {extension}",
        "password": f"Str0ng-{extension}-pass",
        **extra,
    }


USERS = [
    _user("101"),
    _user("102", forward={"busy": {"user": "104"}}),
    _user("103"),
    _user("104", forward={"no_answer": {"voicemail": "105"}}),
    _user("105"),
    _user("106", forward={"always": {"external": "109"}}),
    _user("107", schedule="night"),
    _user("108"),
    _user("109"),
]
SCHEDULES = [
    {
        "name": "office",
        "open": [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "18:00"}],
        "open_destination": {"ring_group": "reception"},
        "closed_destination": {"voicemail": "103"},
    },
    {
        "name": "night",
        "open": [{"days": ["tue"], "from": "09:00", "to": "18:00"}],
        "closed_destination": {"user": "108"},
    },
]
RING_GROUPS = [{"name": "reception", "members": ["101", "102"], "ring_seconds": 20}]
MENUS = [
    {"name": "main", "options": {"1": {"user": "106"}}, "timeout_destination": {"ring_group": "reception"}}
]
NUMBERS = [
    {"number": "0312345678", "destination": {"schedule": "office"}},
    {"number": "0312345679", "destination": {"ivr": "main"}},
    {"number": "0312345680", "destination": {"user": "107"}},
    {"number": "0312345681", "destination": {"user": "109"}},
    {"number": "0312345682", "destination": {"user": "106"}},
]
REACHED = {
    "0312345678": {"101", "102", "103", "104", "105"},
    "0312345679": {"101", "102", "104", "105", "106", "109"},
    "0312345680": {"107", "108"},
    "0312345681": {"109"},
    "0312345682": {"106", "109"},
}


@pytest.fixture
def tenant(make_tenant):
    make_tenant(users=USERS, schedules=SCHEDULES, ring_groups=RING_GROUPS, ivr_menus=MENUS, numbers=NUMBERS)


def _plan(snap, national: str, now: dt.datetime):
    plan = plan_from_carrier(snap, national, "09011112222", now, national=national)
    return plan.kind, plan.refused_by, plan.actions, plan.decisions


@pytest.mark.parametrize("national", sorted(REACHED))
@pytest.mark.parametrize("now", [OPEN, CLOSED], ids=["open", "closed"])
def test_a_numbers_snapshot_plans_as_the_whole_tenant(tenant, session_factory, national, now):
    with session_factory() as session:
        rows = session_rows(session)
        whole = snapshots().by_number(rows, national)
        partial = snapshots().reaching(rows, national)
    assert set(partial.users) == REACHED[national]
    assert set(whole.users) == {u["extension"] for u in USERS}
    assert _plan(partial, national, now) == _plan(whole, national, now)


def test_a_cached_whole_snapshot_serves_the_number(tenant, session_factory):
    loader = snapshots()
    with session_factory() as session:
        rows = session_rows(session)
        whole = loader.by_number(rows, "0312345678")
        assert loader.reaching(rows, "0312345678") is whole


def test_an_unknown_number_has_no_snapshot(tenant, session_factory):
    with session_factory() as session:
        assert snapshots().reaching(session_rows(session), "0399999999") is None
