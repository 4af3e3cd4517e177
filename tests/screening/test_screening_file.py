"""Caller screening in the tenant file (apply / export round trip, coded errors), in the lookup the
switch makes (the caller's privacy from the request), and in the call history."""

from __future__ import annotations

import datetime as dt

import pytest
from billing_helpers import apply_on
from cdr_helpers import lab_tenant, synthetic_leg
from kumo_support import tenant_doc
from lxml import etree

from fsctl import db, models
from fsctl.cdr.history import HistoryFilter, call_history
from fsctl.cdr.parse import parse_json
from fsctl.cdr.store import CdrStore
from fsctl.tenant_file import ConfigError
from fsctl.wiring import tenant_file
from fsctl.xmlcurl.dialplan import DialplanResponder
from fsctl.xmlcurl.store import LookupStore

TUESDAY_10 = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)
SCREENING = {
    "anonymous": {"numbers": {"0312345678": ["withheld", "payphone"]}, "users": {"101": ["withheld"]}},
    "blocklist": [
        {"caller": "0312345679", "action": "reject", "note": "営業電話"},
        {"caller": "+816123*"},
    ],
}


def test_the_file_round_trips_and_stores_the_screening(session_factory):
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, tenant_doc(screening=SCREENING))
    with session_factory() as session:
        tenant = db.tenant_by_domain(session, "acme.kumo.test")
        exported = tenant_file().export(tenant)
        rows = session.query(models.BlockedCaller).order_by(models.BlockedCaller.pattern).all()
        assert [(r.pattern, r.prefix, r.action) for r in rows] == [
            ("0312345679", False, "reject"),
            ("06123", True, "announce"),
        ]
    assert exported["screening"] == {
        "anonymous": {"numbers": {"0312345678": ["withheld", "payphone"]}, "users": {"101": ["withheld"]}},
        "blocklist": [
            {"caller": "0312345679", "action": "reject", "note": "営業電話"},
            {"caller": "06123*"},
        ],
    }
    with db.session_scope(session_factory) as session:
        version = db.tenant_by_domain(session, "acme.kumo.test").config_version
        tenant_file().apply(session, exported)
    with session_factory() as session:
        assert db.tenant_by_domain(session, "acme.kumo.test").config_version == version  # nothing changed
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, tenant_doc())  # the file is the whole truth
    with session_factory() as session:
        assert session.query(models.BlockedCaller).count() == 0
        assert session.query(models.AnonymousRefusal).count() == 0
        assert "screening" not in tenant_file().export(db.tenant_by_domain(session, "acme.kumo.test"))


@pytest.mark.parametrize(
    ("screening", "path", "code"),
    [
        (
            {"anonymous": {"numbers": {"0399999999": ["withheld"]}}},
            ("screening", "anonymous", "numbers", "0399999999"),
            "screening_unknown_number",
        ),
        (
            {"anonymous": {"users": {"999": ["withheld"]}}},
            ("screening", "anonymous", "users", "999"),
            "screening_unknown_user",
        ),
        (
            {"anonymous": {"users": {"101": []}}},
            ("screening", "anonymous", "users", "101"),
            "screening_no_kind",
        ),
        (
            {"blocklist": [{"caller": "0312"}, {"caller": "0312"}]},
            ("screening", "blocklist", 1, "caller"),
            "screening_listed_twice",
        ),
        ({"blocklist": [{"caller": "abc"}]}, ("screening", "blocklist", 0, "caller"), ""),
        ({"blocklist": [{"caller": "0312", "action": "drop"}]}, ("screening", "blocklist", 0, "action"), ""),
        ({"anonymous": {"users": {"101": ["hidden"]}}}, ("screening", "anonymous", "users"), ""),
    ],
)
def test_bad_screening_is_refused_naming_the_field(session_factory, screening, path, code):
    with pytest.raises(ConfigError) as refused, db.session_scope(session_factory) as session:
        tenant_file().apply(session, tenant_doc(screening=screening))
    errors = [e for e in refused.value.errors if e.path[: len(path)] == path]
    assert errors, refused.value.errors
    assert errors[0].code == code


def _carrier_fields(caller: str, name: str = "", hide: str = "false") -> dict[str, str]:
    return {
        "Hunt-Context": "public",
        "Caller-Context": "public",
        "Hunt-Destination-Number": "+81312345678",
        "Caller-Destination-Number": "+81312345678",
        "Caller-Caller-ID-Number": caller,
        "Caller-Caller-ID-Name": name,
        "Caller-Privacy-Hide-Number": hide,
    }


def _actions(document: bytes) -> list[tuple[str, str]]:
    return [(a.get("application"), a.get("data") or "") for a in etree.fromstring(document).iter("action")]


def test_the_lookup_refuses_by_the_callers_privacy_and_the_blocklist(make_tenant, engine, settings):
    make_tenant(screening=SCREENING)
    store = LookupStore(engine=engine)
    responder = DialplanResponder(store, settings, clock=lambda: TUESDAY_10)
    try:
        withheld = _actions(responder.answer(_carrier_fields("anonymous", "Anonymous")))
        assert ("playback", "kumo/screening_withheld.wav") in withheld
        assert withheld[-1] == ("hangup", "CALL_REJECTED")
        hidden = _actions(responder.answer(_carrier_fields("+819012345678", hide="true")))
        assert ("set", "kumo_screened=withheld") in hidden
        payphone = _actions(responder.answer(_carrier_fields("anonymous", "Coin line/payphone")))
        assert ("set", "kumo_screened=payphone") in payphone
        unavailable = _actions(responder.answer(_carrier_fields("anonymous", "Unavailable")))
        assert any(app == "bridge" for app, _ in unavailable)  # not chosen: it rings
        blocked = _actions(responder.answer(_carrier_fields("+81312345679")))
        assert blocked[-2:] == [("set", "kumo_screened=blocked"), ("hangup", "CALL_REJECTED")]
        allowed = _actions(responder.answer(_carrier_fields("+819012345678")))
        assert any(app == "bridge" for app, _ in allowed)
    finally:
        store.reset()


def test_a_blocked_call_shows_in_the_history_and_its_filter(engine, session_factory):
    lab = lab_tenant()
    apply_on(session_factory, dt.date(2026, 10, 1), lab)
    store = CdrStore(engine, session_factory)
    number = "+81" + lab["numbers"][0]["number"][1:]
    store.store(
        parse_json(
            synthetic_leg(
                "00000000-0000-4000-a000-000000000001",
                number,
                context="public",
                caller="+81312345679",
                variables={"kumo_screened": "blocked", "hangup_cause": "CALL_REJECTED"},
            )
        ),
        "http",
    )
    store.store(
        parse_json(
            synthetic_leg(
                "00000000-0000-4000-a000-000000000002",
                number,
                billsec=5,
                context="public",
                caller="+819011112222",
                variables={"kumo_screened": "${bogus}"},
            )
        ),
        "http",
    )
    with session_factory() as session:
        tenant = db.tenant_by_domain(session, lab["domain"])
        everything = call_history(session, HistoryFilter(tenant.id))
        screened = call_history(session, HistoryFilter(tenant.id, screened=True))
    assert sorted(item.screened or "-" for item in everything.items) == ["-", "blocked"]
    assert [(item.caller, item.screened) for item in screened.items] == [("+81312345679", "blocked")]
