"""Directory lookups of customer gateways, replayed from the captured bodies rewritten for a gateway."""

from __future__ import annotations

import copy
import hashlib
import time

import pytest
from gw_helpers import BETA, GW_PASSWORD, gateway_doc
from kumo_support import read_fixture
from lxml import etree
from sqlalchemy import select

from fsctl import db, models
from fsctl.gateways.contexts import ACL_DOMAIN
from fsctl.wiring import tenant_file
from fsctl.xml.document import NOT_FOUND
from fsctl.xmlcurl.app import ServiceApp
from fsctl.xmlcurl.store import LookupStore


def as_gateway(name: str, user: str = "honsha", domain: str = "acme.kumo.test") -> bytes:
    """A captured body of user 1001@acme.example rewritten for `user`@`domain` (every field that named 1001)."""
    body = read_fixture(f"xml_curl/{name}")
    return body.replace(b"acme.example", domain.encode()).replace(b"=1001&", f"={user}&".encode())


@pytest.fixture
def app(settings, engine, session_factory):
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, gateway_doc())
        tenant_file().apply(session, copy.deepcopy(BETA))
    store = LookupStore(engine=engine)
    yield ServiceApp(settings, store)
    store.reset()


def gateway_ids(session_factory) -> dict[str, int]:
    with db.session_scope(session_factory) as session:
        return {g.name: g.id for g in session.scalars(select(models.Gateway))}


def lookup(app: ServiceApp, body: bytes) -> bytes:
    response = app.handle("POST", "/fs/xml", {}, body)
    assert response.status == 200
    return response.body


def the_user(document: bytes) -> tuple[etree._Element, dict[str, str], dict[str, str]]:
    root = etree.fromstring(document)
    (user,) = root.findall("section[@name='directory']/domain/groups/group/users/user")
    params = {p.get("name"): p.get("value") for p in user.findall("params/param")}
    variables = {v.get("name"): v.get("value") for v in user.findall("variables/variable")}
    return user, params, variables


@pytest.mark.parametrize(
    "fixture",
    ["directory-sip_auth-register.txt", "directory-sip_auth-invite.txt", "directory-sip_auth-unregister.txt"],
)
def test_a_registering_gateway_authenticates_by_a1_hash_into_its_own_context(app, session_factory, fixture):
    body = as_gateway(fixture)
    assert b"sip_auth_username=honsha&" in body and b"&user=honsha&domain=acme.kumo.test" in body
    user, params, variables = the_user(lookup(app, body))
    gw_id = gateway_ids(session_factory)["honsha"]
    assert user.get("id") == "honsha"
    assert params["a1-hash"] == hashlib.md5(f"honsha:acme.kumo.test:{GW_PASSWORD}".encode()).hexdigest()
    assert "password" not in params
    assert variables["user_context"] == f"gw_{gw_id}.acme.kumo.test"
    assert variables["kumo_gateway_id"] == str(gw_id) and variables["kumo_tenant_id"]
    # The outside caller's number must survive: the gateway user sets no caller ID of its own.
    assert not any(name.startswith("effective_caller_id") for name in variables)


def test_a_bridge_to_the_gateway_dials_its_contact_with_the_number_in_the_to_header(app):
    _user, params, _variables = the_user(
        lookup(app, as_gateway("directory-user_call.txt", "honsha").replace(b"=1002&", b"=honsha&"))
    )
    assert params["dial-string"].endswith(
        "${sofia_contact(*/${dialed_user}@${dialed_domain})}^${kumo_gateway_dial}@${dialed_domain}"
    )


def test_gateway_names_never_cross_tenants_and_static_gateways_do_not_register(app):
    # beta-gw is beta's; osaka is acme's but static (no credentials): both "not found" in acme.
    assert lookup(app, as_gateway("directory-sip_auth-register.txt", "beta-gw")) == NOT_FOUND
    assert lookup(app, as_gateway("directory-sip_auth-register.txt", "osaka")) == NOT_FOUND
    assert lookup(app, as_gateway("directory-sip_auth-register.txt", "nagoya")) == NOT_FOUND


def test_the_acl_network_list_lists_static_gateways_with_their_cidr(app, session_factory):
    body = read_fixture("xml_curl/directory-network-list.txt").replace(b"acme.example", ACL_DOMAIN.encode())
    assert b"purpose=network-list" in body
    root = etree.fromstring(lookup(app, body))
    (domain,) = root.findall("section[@name='directory']/domain")
    assert domain.get("name") == ACL_DOMAIN
    users = [(u.get("id"), u.get("cidr")) for u in domain.findall("groups/group/users/user")]
    assert users == [(f"gw{gateway_ids(session_factory)['osaka']}", "203.0.113.8/29")]
    # A tenant domain's network-list lookup stays the switch's own business.
    assert lookup(app, read_fixture("xml_curl/directory-network-list.txt")) == NOT_FOUND


def test_the_acl_token_user_gives_the_static_gateway_its_context_but_never_authenticates(
    app, session_factory
):
    gw_id = gateway_ids(session_factory)["osaka"]
    # sofia_locate_user(acl_token) asks like user_exists: key=id, user, domain, no action.
    body = as_gateway("directory-user_exists.txt", f"gw{gw_id}", ACL_DOMAIN)
    assert f"&user=gw{gw_id}&domain={ACL_DOMAIN}".encode() in body
    user, params, variables = the_user(lookup(app, body))
    assert variables["user_context"] == f"gw_{gw_id}.acme.kumo.test"
    assert params["allow-empty-password"] == "false" and "a1-hash" not in params
    register = as_gateway("directory-sip_auth-register.txt", f"gw{gw_id}", ACL_DOMAIN)
    assert lookup(app, register) == NOT_FOUND
    honsha = gateway_ids(session_factory)["honsha"]  # a registering gateway is not an ACL user
    assert lookup(app, as_gateway("directory-user_exists.txt", f"gw{honsha}", ACL_DOMAIN)) == NOT_FOUND


def test_a_changed_password_is_served_on_the_next_lookup(app, session_factory):
    body = as_gateway("directory-sip_auth-register.txt")
    before = the_user(lookup(app, body))[1]["a1-hash"]
    doc = gateway_doc()
    doc["gateways"][0] = dict(doc["gateways"][0], password="An0ther-gw-pass")
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, doc)
    after = the_user(lookup(app, body))[1]["a1-hash"]
    assert before != after == hashlib.md5(b"honsha:acme.kumo.test:An0ther-gw-pass").hexdigest()


def test_a_banned_source_cannot_authenticate_as_a_gateway(app, session_factory):
    body = as_gateway("directory-sip_auth-register.txt")
    assert b"&ip=127.0.0.1" in body
    with db.session_scope(session_factory) as session:
        session.add(
            models.Ban(
                ip="127.0.0.1",
                domain="acme.kumo.test",
                username="honsha",
                created_at=0,
                until=int(time.time()) + 600,
                failures=10,
                reason="test",
            )
        )
    assert lookup(app, body) == NOT_FOUND
    # The same gateway from another address, and its call lookups (no digest), still work.
    assert lookup(app, body.replace(b"&ip=127.0.0.1", b"&ip=127.0.0.2")) != NOT_FOUND
    assert lookup(app, as_gateway("directory-user_call.txt").replace(b"=1002&", b"=honsha&")) != NOT_FOUND
