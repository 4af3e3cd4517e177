"""Fax numbers in the tenant file (apply, export, coded errors), in routing (rxfax in the tenant's own
directory, T.38 accepted, the number marked for the CDR), and on the statement as a 0-yen option."""

from __future__ import annotations

import pytest
import yaml
from fax_helpers import FAX_NUMBER
from kumo_support import tenant_doc
from planners import plan_from_carrier
from routing.factories import at

from fsctl import db
from fsctl.billing.subscriptions import held_now
from fsctl.snapshots import session_rows
from fsctl.tenant_file import ConfigError
from fsctl.wiring import billable_items, snapshots, tenant_file
from fsctl.xml.dialplan import render

NUMBERS = [
    {"number": "0312345678", "destination": {"ring_group": "reception"}},
    {"number": FAX_NUMBER},
]
FAX = [{"number": "03-1234-5679", "emails": ["soumu@acme.example", "boss@acme.example"]}]


def _snap(session):
    return snapshots().by_domain(session_rows(session), "acme.kumo.test")


def test_apply_and_export_keep_the_fax_numbers_and_addresses(session_factory):
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, tenant_doc(numbers=NUMBERS, fax=FAX))
    with db.session_scope(session_factory) as session:
        assert _snap(session).fax_numbers == frozenset({FAX_NUMBER})
        exported = tenant_file().export(db.tenant_by_domain(session, "acme.kumo.test"))
    assert exported["fax"] == [{"number": FAX_NUMBER, "emails": ["soumu@acme.example", "boss@acme.example"]}]
    with db.session_scope(session_factory) as session:
        again = yaml.safe_load(yaml.safe_dump(exported, allow_unicode=True))
        assert tenant_file().apply(session, again).changed is False
        assert tenant_file().apply(session, tenant_doc(numbers=NUMBERS)).changed
    with db.session_scope(session_factory) as session:
        assert _snap(session).fax_numbers == frozenset()


@pytest.mark.parametrize(
    ("fax", "path", "code"),
    [
        ([{"number": "0312345670"}], ("fax", 0, "number"), "fax_not_a_number"),
        ([{"number": "0312345678"}], ("fax", 0, "number"), "fax_number_has_destination"),
        ([{"number": FAX_NUMBER}, {"number": FAX_NUMBER}], ("fax", 1, "number"), "fax_twice"),
    ],
)
def test_the_file_refuses_a_fax_number_that_cannot_be_one(session_factory, fax, path, code):
    with db.session_scope(session_factory) as session, pytest.raises(ConfigError) as refused:
        tenant_file().apply(session, tenant_doc(numbers=NUMBERS, fax=fax))
    assert [(e.path, e.code) for e in refused.value.errors] == [(path, code)]


@pytest.mark.parametrize(
    ("fax", "path"),
    [
        ([{"number": FAX_NUMBER, "emails": ["not an address"]}], ("fax", 0, "emails", 0)),
        ([{"number": FAX_NUMBER, "emails": [f"a{i}@acme.example" for i in range(6)]}], ("fax", 0, "emails")),
        ([{"number": "12345"}], ("fax", 0, "number")),
    ],
)
def test_bad_values_are_refused_naming_the_field(session_factory, fax, path):
    with db.session_scope(session_factory) as session, pytest.raises(ConfigError) as refused:
        tenant_file().apply(session, tenant_doc(numbers=NUMBERS, fax=fax))
    assert path in [e.path for e in refused.value.errors]


def test_a_carrier_call_to_the_fax_number_is_answered_by_rxfax(session_factory):
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, tenant_doc(numbers=NUMBERS, fax=FAX))
    with db.session_scope(session_factory) as session:
        snap = _snap(session)
    plan = plan_from_carrier(
        snap, "+81312345679", "+81355550101", at("2026-12-07 10:00"), national=FAX_NUMBER
    )
    actions = [(a.app, a.data) for a in plan.actions]
    assert plan.refused_by is None
    # The channel limit holds for faxes like any external call; the media timer comes before the answer.
    assert actions.index(("set", "rtp_timer_name=soft")) < actions.index(("answer", ""))
    assert ("set", "fax_spool=${kumo_fax_dir}/acme.kumo.test") in actions
    assert ("set", f"kumo_fax_number={FAX_NUMBER}") in actions
    assert ("set", "fax_enable_t38=true") in actions
    assert actions[-2:] == [("rxfax", ""), ("hangup", "NORMAL_CLEARING")]
    assert any(a == "limit" for a, _ in actions)
    assert any(d.what == f"number {FAX_NUMBER}: fax" for d in plan.decisions)
    # The renderer lets the fax directory variable through (and nothing else new).
    assert b"${kumo_fax_dir}/acme.kumo.test" in render(plan)
    voice = plan_from_carrier(
        snap, "+81312345678", "+81355550101", at("2026-12-07 10:00"), national="0312345678"
    )
    assert not any(a.app == "rxfax" for a in voice.actions)


def test_each_fax_number_is_a_held_option(session_factory):
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, tenant_doc(numbers=NUMBERS, fax=FAX))
    with db.session_scope(session_factory) as session:
        tenant = db.tenant_by_domain(session, "acme.kumo.test")
        assert ("fax_number", FAX_NUMBER) in held_now(session, tenant, billable_items())


def test_fsctl_trace_explains_a_call_to_a_fax_number(session_factory):
    from fsctl.trace import format_text, parse_at, trace

    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, tenant_doc(numbers=NUMBERS, fax=FAX))
    plan = trace(session_factory, "acme.kumo.test", "0355550101", FAX_NUMBER, parse_at("2026-12-07 10:00"))
    text = format_text(plan)
    assert f"number {FAX_NUMBER}: fax" in text
    assert "the fax receiver answers (G.711 or T.38); the fax is stored and mailed as PDF" in text
    assert "rxfax" in text
