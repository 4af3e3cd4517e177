"""DialplanResponder against a real database, replaying captured FreeSWITCH dialplan bodies."""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse

import pytest
from kumo_support import without_language
from lxml import etree

from fsctl import db
from fsctl.wiring import tenant_file
from fsctl.xmlcurl.dialplan import DialplanResponder
from fsctl.xmlcurl.store import LookupStore

TUESDAY_10 = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)  # 10:00 in Tokyo
OFFICE = {
    "name": "office",
    "open": [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "18:00"}],
    "open_destination": {"ring_group": "reception"},
    "closed_destination": {"voicemail": "101"},
}


def captured(name: str, fixtures_dir, **rewrite: str) -> dict[str, str]:
    """A captured dialplan body as fields, with the lab's domain/context/destination rewritten (synthetic part)."""
    body = (fixtures_dir / "xml_curl" / name).read_text()
    fields = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
    for key, value in rewrite.items():
        for name_ in {
            "context": ("Hunt-Context", "Caller-Context"),
            "destination": ("Hunt-Destination-Number", "Caller-Destination-Number"),
            "domain": ("variable_domain_name",),
            "user": ("variable_user_name", "variable_sip_auth_username"),
        }[key]:
            fields[name_] = value
    return fields


@pytest.fixture
def responder(engine, settings):
    store = LookupStore(engine=engine)
    yield DialplanResponder(store, settings, clock=lambda: TUESDAY_10)
    store.reset()


def actions(document: bytes) -> list[tuple[str, str]]:
    root = etree.fromstring(document)
    # bridge strings without the tenant's pickup/<group> leg (tests/esl/test_esl_features.py has it)
    return [
        (a.get("application"), re.sub(r",pickup/[^,|]+", "", a.get("data") or ""))
        for a in root.iter("action")
    ]


def test_phone_call_replayed_from_the_capture(make_tenant, responder, fixtures_dir):
    make_tenant()
    fields = captured(
        "dialplan-bridge-1002.txt",
        fixtures_dir,
        context="acme.kumo.test",
        domain="acme.kumo.test",
        user="101",
        destination="102",
    )
    document = responder.answer(fields)
    root = etree.fromstring(document)
    assert root.find("section").get("name") == "dialplan"
    assert root.find("section/context").get("name") == "acme.kumo.test"
    assert root.find(".//condition").get("expression") == "^102$"
    assert ("bridge", "user/102@acme.kumo.test") in actions(document)


def test_lab_context_unknown_is_not_found(make_tenant, responder, fixtures_dir):
    make_tenant()
    assert responder.answer(captured("dialplan-bridge-1002.txt", fixtures_dir)) is None  # context "default"
    assert responder.answer(captured("dialplan-loopback-default-9999.txt", fixtures_dir)) is None


def test_context_and_caller_must_belong_together(make_tenant, responder, fixtures_dir):
    make_tenant()
    make_tenant(domain="beta.kumo.test", users=[], numbers=[], ring_groups=[], park=None)
    fields = captured(
        "dialplan-bridge-1002.txt",
        fixtures_dir,
        context="acme.kumo.test",
        domain="beta.kumo.test",
        user="101",
        destination="102",
    )
    assert actions(responder.answer(fields)) == [("hangup", "CALL_REJECTED")]


def test_public_did_to_schedule_to_ring_group(make_tenant, responder, fixtures_dir):
    make_tenant(schedules=[OFFICE], numbers=[{"number": "0312345678", "destination": {"schedule": "office"}}])
    for form in ("0312345678", "+81312345678", "81312345678"):
        fields = captured("dialplan-loopback-public-9196.txt", fixtures_dir, destination=form)
        acts = actions(responder.answer(fields))
        assert without_language(acts)[0] == ("limit", "hash kumo_external 1 8 !USER_BUSY"), form
        assert ("bridge", "user/101@acme.kumo.test,user/102@acme.kumo.test") in acts


def test_public_unknown_number_is_rejected(make_tenant, responder, fixtures_dir):
    make_tenant()
    fields = captured("dialplan-loopback-public-9196.txt", fixtures_dir)  # 9196
    assert actions(responder.answer(fields)) == [("hangup", "UNALLOCATED_NUMBER")]


@pytest.mark.parametrize(
    "destination",
    [
        "",
        "1" * 500,
        '102<action application="system"/>',
        "10$",
        "0312345678${system(x)}",
        "^.*$",
        "102 XML x",
        "ｆｕｌｌ",
    ],
)
def test_odd_destinations_never_raise(make_tenant, responder, fixtures_dir, destination):
    make_tenant()
    for context in ("acme.kumo.test", "public", "nope", "", 'a"b', "x" * 400):
        fields = captured(
            "dialplan-bridge-1002.txt",
            fixtures_dir,
            context=context,
            domain="acme.kumo.test",
            user="101",
            destination=destination,
        )
        document = responder.answer(fields)
        if document is not None:
            root = etree.fromstring(document)  # well-formed, one action list, no injected elements
            assert [a.get("application") for a in root.iter("action")] in (["hangup"], ["limit", "hangup"])


def test_a_committed_change_is_seen_on_the_next_lookup(make_tenant, responder, session_factory, fixtures_dir):
    from kumo_support import tenant_doc

    make_tenant()
    fields = captured(
        "dialplan-bridge-1002.txt",
        fixtures_dir,
        context="acme.kumo.test",
        domain="acme.kumo.test",
        user="101",
        destination="09012345678",
    )
    assert ("limit", "hash kumo_external 1 8 !USER_BUSY") in actions(responder.answer(fields))
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, tenant_doc(status="suspended"))
    assert actions(responder.answer(fields)) == [("hangup", "OUTGOING_CALL_BARRED")]


def _acme_calls_beta(make_tenant, fixtures_dir) -> dict[str, str]:
    """Tenants acme and beta; the fields of acme's 101 dialling beta's number 0362800001."""
    make_tenant()
    make_tenant(
        domain="beta.kumo.test",
        name="Beta",
        users=[{"extension": "201", "name": "B", "password": "Str0ng-201-pass"}],
        numbers=[{"number": "0362800001", "destination": {"user": "201"}}],
        ring_groups=[],
        park=None,
    )
    fields = captured(
        "dialplan-bridge-1002.txt",
        fixtures_dir,
        context="acme.kumo.test",
        domain="acme.kumo.test",
        user="101",
        destination="0362800001",
    )
    return fields


def test_on_net_between_tenants(make_tenant, responder, fixtures_dir):
    fields = _acme_calls_beta(make_tenant, fixtures_dir)
    acts = actions(responder.answer(fields))
    assert ("bridge", "user/201@beta.kumo.test") in acts
    assert not any(app == "limit" for app, _ in acts)


def test_on_net_across_nodes_leaves_through_kamailio(make_tenant, responder, session_factory, fixtures_dir):
    """Tenants on two nodes of a cluster: the other tenant's phones are registered on its node, so
    the call leaves through the carrier gateway (Kamailio in a cluster) to the number in E.164; on
    one node it rings inside as before, and a move is seen on the next lookup."""
    from fsctl import cluster

    with db.session_scope(session_factory) as session:
        cluster.add_node(session, "node-a", "127.0.0.2:5060", "127.0.0.2:5080")
    fields = _acme_calls_beta(make_tenant, fixtures_dir)
    assert ("bridge", "user/201@beta.kumo.test") in actions(responder.answer(fields))  # both on node-a
    with db.session_scope(session_factory) as session:
        cluster.add_node(session, "node-b", "127.0.0.3:5060", "127.0.0.3:5080")
        cluster.move_tenant(session, "beta.kumo.test", "node-b")
    acts = actions(responder.answer(fields))
    assert acts[-1] == ("bridge", "sofia/gateway/carrier/+81362800001")
    assert ("set", "effective_caller_id_number=+81312345678") in acts  # node-b shows it as 0312345678
    assert ("set", "effective_caller_id_name=株式会社アクメ") in acts
    assert not any(app == "limit" for app, _ in acts)  # no carrier channel of acme's
    with db.session_scope(session_factory) as session:
        cluster.move_tenant(session, "acme.kumo.test", "node-b")
    assert ("bridge", "user/201@beta.kumo.test") in actions(responder.answer(fields))


def test_continuation_after_a_busy_bridge(make_tenant, responder, fixtures_dir):
    users = [
        {"extension": "101", "name": "A", "password": "Str0ng-101-pass", "caller_id": "0312345678"},
        {
            "extension": "102",
            "name": "B",
            "password": "Str0ng-102-pass",
            "voicemail": {"enabled": False},
            "forward": {"busy": {"user": "101"}},
        },
    ]
    make_tenant(users=users)
    fields = captured(
        "dialplan-bridge-1002.txt",
        fixtures_dir,
        context="acme.kumo.test",
        domain="acme.kumo.test",
        user="101",
        destination="102",
    )
    acts = actions(responder.answer(fields))
    assert acts[-1] == ("transfer", "kumo-after-102-${originate_disposition} XML acme.kumo.test")
    visited = next(d for a, d in acts if a == "set" and d.startswith("kumo_continuation="))
    fields["Hunt-Destination-Number"] = "kumo-after-102-USER_BUSY"
    fields["variable_kumo_continuation"] = visited.split("=", 1)[1]
    assert ("bridge", "user/101@acme.kumo.test") in actions(responder.answer(fields))
    # Without our channel variable the same destination is just an odd number.
    del fields["variable_kumo_continuation"]
    assert responder.answer(fields) is None
