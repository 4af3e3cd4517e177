"""Dialplan lookups in a gateway's context against a real database (captured bodies, rewritten), and the
raw-SQL and ORM snapshot loaders agreeing on gateways."""

from __future__ import annotations

import copy
import datetime as dt
import re
import urllib.parse

import pytest
from gw_helpers import BETA, gateway_doc
from lxml import etree
from planners import load_snapshot, load_snapshot_rows
from sqlalchemy import select

from fsctl import db, models
from fsctl.wiring import tenant_file
from fsctl.xmlcurl.dialplan import DialplanResponder
from fsctl.xmlcurl.store import LookupStore

TUESDAY_10 = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)  # 10:00 in Tokyo


@pytest.fixture
def ids(session_factory) -> dict[str, int]:
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, gateway_doc())
        tenant_file().apply(session, copy.deepcopy(BETA))
    with db.session_scope(session_factory) as session:
        return {g.name: g.id for g in session.scalars(select(models.Gateway))}


@pytest.fixture
def responder(engine, settings):
    store = LookupStore(engine=engine)
    yield DialplanResponder(store, settings, clock=lambda: TUESDAY_10)
    store.reset()


def from_gateway(fixtures_dir, context: str, destination: str, gateway_id: str | None) -> dict[str, str]:
    """The captured public-context loopback body as a call from a gateway (synthetic: context, number, id)."""
    body = (fixtures_dir / "xml_curl" / "dialplan-loopback-public-9196.txt").read_text()
    fields = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
    fields.update(
        {
            "Hunt-Context": context,
            "Caller-Context": context,
            "Hunt-Destination-Number": destination,
            "Caller-Destination-Number": destination,
            "Caller-Caller-ID-Number": "0901112222",
        }
    )
    if gateway_id is not None:
        fields["variable_kumo_gateway_id"] = gateway_id
    return fields


def actions(document: bytes | None) -> list[tuple[str, str]]:
    assert document is not None
    root = etree.fromstring(document)
    return [
        (a.get("application"), re.sub(r",pickup/[^,|]+", "", a.get("data") or ""))
        for a in root.iter("action")
    ]


def test_a_call_from_the_gateway_for_a_carried_number_rings_the_ring_group(ids, responder, fixtures_dir):
    gw = ids["honsha"]
    document = responder.answer(
        from_gateway(fixtures_dir, f"gw_{gw}.acme.kumo.test", "+81355550100", str(gw))
    )
    root = etree.fromstring(document)
    assert root.find("section/context").get("name") == f"gw_{gw}.acme.kumo.test"
    acts = actions(document)
    assert acts[:4] == [
        ("set", f"kumo_gateway_id={gw}"),
        ("set", "kumo_gateway=honsha"),
        ("set", "limit_ignore_transfer=true"),
        ("limit", f"hash kumo_gateway {gw} 4 !USER_BUSY"),
    ]
    assert ("bridge", "user/101@acme.kumo.test,user/102@acme.kumo.test") in acts


def test_a_gateway_cannot_use_another_tenants_number_or_context(ids, responder, fixtures_dir):
    gw, beta = ids["honsha"], ids["beta-gw"]
    for number in ("0677770000", "0612340000", "0312345678", "0666660100"):
        fields = from_gateway(fixtures_dir, f"gw_{gw}.acme.kumo.test", number, str(gw))
        assert actions(responder.answer(fields)) == [("hangup", "UNALLOCATED_NUMBER")], number
    # beta's gateway naming acme's gateway context, or acme's domain with its own id: refused.
    spoofed = from_gateway(fixtures_dir, f"gw_{gw}.acme.kumo.test", "0355550100", str(beta))
    assert actions(responder.answer(spoofed)) == [("hangup", "CALL_REJECTED")]
    wrong_domain = from_gateway(fixtures_dir, f"gw_{beta}.acme.kumo.test", "0677770000", str(beta))
    assert actions(responder.answer(wrong_domain)) == [("hangup", "CALL_REJECTED")]
    assert responder.answer(from_gateway(fixtures_dir, "gw_999.acme.kumo.test", "0355550100", "999")) is None


def test_a_phone_of_the_tenant_goes_out_through_the_gateway(ids, responder, fixtures_dir):
    body = (fixtures_dir / "xml_curl" / "dialplan-bridge-1002.txt").read_text()
    fields = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
    fields.update(
        {
            "Hunt-Context": "acme.kumo.test",
            "Caller-Context": "acme.kumo.test",
            "variable_domain_name": "acme.kumo.test",
            "variable_user_name": "101",
            "variable_sip_auth_username": "101",
            "Hunt-Destination-Number": "0312349999",
            "Caller-Destination-Number": "0312349999",
        }
    )
    acts = actions(responder.answer(fields))
    assert ("limit", f"hash kumo_gateway {ids['honsha']} 4 !USER_BUSY") in acts
    assert not any(data.startswith("hash kumo_external") for _app, data in acts)
    assert acts[-2:] == [("set", "kumo_gateway_dial=0312349999"), ("bridge", "user/honsha@acme.kumo.test")]


def test_raw_and_orm_loaders_agree_on_gateways(ids, engine, session_factory):
    with session_factory() as session:
        orm = load_snapshot(session, domain="acme.kumo.test")
    raw = load_snapshot_rows(LookupStore(engine=engine).fetch_all, orm.id)
    assert raw.gateways == orm.gateways and raw.carried == orm.carried
    assert (
        (raw.outbound_via, raw.user_outbound_via)
        == (orm.outbound_via, orm.user_outbound_via)
        == ("honsha", {"102": None})
    )
    assert raw == orm
    assert orm.gateways["osaka"].address == "203.0.113.10" and orm.gateways["honsha"].numbers == (
        "0355550100",
        "0355550101",
    )
    assert orm.carried["0355550101"].destination.describe() == "user 101"
