"""The directory section, replayed from the real captured mod_xml_curl bodies."""

from __future__ import annotations

import hashlib

import pytest
from kumo_support import read_fixture, tenant_doc
from lxml import etree

from fsctl import db
from fsctl.config import Settings
from fsctl.wiring import tenant_file
from fsctl.xml.document import NOT_FOUND
from fsctl.xmlcurl.app import ServiceApp
from fsctl.xmlcurl.store import LookupStore

# Captured from the lab switch with domain acme.example and users 1001/1002; rewritten to a test tenant.
USER_LOOKUPS = [
    "directory-sip_auth-register.txt",
    "directory-sip_auth-invite.txt",
    "directory-sip_auth-unregister.txt",
    "directory-user_call.txt",
    "directory-message-count.txt",
    "directory-voicemail-lookup.txt",
    "directory-user_data-param.txt",
    "directory-user_data-var.txt",
    "directory-user_exists.txt",
]


def captured(name: str, domain: str = "acme.kumo.test") -> bytes:
    """A captured body with the lab's domain and users mapped onto the test tenant (1001 -> 101, 1002 -> 102)."""
    body = read_fixture(f"xml_curl/{name}")
    body = body.replace(b"acme.example", domain.encode())
    for lab, ours in ((b"1001", b"101"), (b"1002", b"102")):
        body = body.replace(b"&user=" + lab + b"&", b"&user=" + ours + b"&")
    return body


@pytest.fixture
def app(settings, engine):
    store = LookupStore(engine=engine)
    yield ServiceApp(settings, store)
    store.reset()


def lookup(app: ServiceApp, body: bytes) -> bytes:
    response = app.handle("POST", "/fs/xml", {}, body)
    assert response.status == 200
    assert response.content_type.startswith("text/xml")
    return response.body


def user_element(document: bytes) -> etree._Element:
    root = etree.fromstring(document)
    assert root.tag == "document" and root.get("type") == "freeswitch/xml"
    users = root.findall("section[@name='directory']/domain/groups/group/users/user")
    assert len(users) == 1, "a user lookup returns exactly one user"
    return users[0]


def params(user: etree._Element, kind: str) -> dict[str, str]:
    return {p.get("name"): p.get("value") for p in user.findall(f"{kind}s/{kind}")}


@pytest.mark.parametrize("fixture", USER_LOOKUPS)
def test_every_captured_user_lookup_answers_the_one_user(app, make_tenant, fixture):
    make_tenant()
    user = user_element(lookup(app, captured(fixture)))
    expected_user = "102" if b"&user=102&" in captured(fixture) else "101"
    assert user.get("id") == expected_user
    password = "Str0ng-101-pass" if expected_user == "101" else "Str0ng-102-pass"
    values = params(user, "param")
    assert values["a1-hash"] == hashlib.md5(f"{expected_user}:acme.kumo.test:{password}".encode()).hexdigest()
    assert "password" not in values
    variables = params(user, "variable")
    assert variables["user_context"] == "acme.kumo.test"
    assert variables["domain_name"] == "acme.kumo.test"
    assert variables["effective_caller_id_number"] == expected_user
    assert variables["kumo_tenant_id"].isdigit()


def test_user_carries_caller_id_name_direction_and_outbound_number(app, make_tenant):
    make_tenant()
    variables = params(user_element(lookup(app, captured("directory-sip_auth-register.txt"))), "variable")
    assert variables["effective_caller_id_name"] == "山田 太郎"
    assert variables["outbound_caller_id_number"] == "0312345678"
    assert variables["kumo_direction"] == "both"
    assert variables["call_timeout"] == "20"


@pytest.mark.parametrize(
    "fixture",
    [
        "directory-unknown-user-id.txt",
        "directory-unknown-user-number-alias.txt",
        "directory-gateways-all-domains.txt",
        "directory-gateways-domain.txt",
        "directory-network-list.txt",
    ],
)
def test_lookups_kumo_does_not_serve_answer_not_found(app, make_tenant, fixture):
    make_tenant()
    assert lookup(app, captured(fixture)) == NOT_FOUND


def test_unknown_domain_is_not_found(app, make_tenant):
    make_tenant()
    assert lookup(app, captured("directory-sip_auth-register.txt", domain="nobody.kumo.test")) == NOT_FOUND


def test_same_extension_in_two_tenants_never_leaks(app, session_factory):
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, tenant_doc())
        tenant_file().apply(
            session,
            tenant_doc(
                domain="beta.kumo.test",
                users=[{"extension": "101", "name": "Beta 101", "password": "Beta-101-secret"}],
                numbers=[],
                ring_groups=[],
                park=None,
            ),
        )
    beta = user_element(lookup(app, captured("directory-sip_auth-register.txt", domain="beta.kumo.test")))
    assert params(beta, "param")["a1-hash"] == hashlib.md5(b"101:beta.kumo.test:Beta-101-secret").hexdigest()
    assert params(beta, "variable")["user_context"] == "beta.kumo.test"
    assert params(beta, "variable")["effective_caller_id_name"] == "Beta 101"
    # 102 exists only in acme: asking beta for it must not find acme's user.
    assert (
        lookup(
            app,
            captured("directory-sip_auth-invite.txt", domain="beta.kumo.test").replace(
                b"&user=101&", b"&user=102&"
            ),
        )
        == NOT_FOUND
    )


def test_domain_is_matched_case_insensitively(app, make_tenant):
    make_tenant()
    body = captured("directory-sip_auth-register.txt", domain="ACME.Kumo.Test")
    assert user_element(lookup(app, body)).get("id") == "101"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\xff\xfe\x00garbage",
        b"section=",
        b"hostname=vm",
        b"section=directory",
        b"section=directory&domain=192.0.2.1&user=101&key=id",
        b"section=directory&domain=[::1]&user=101&key=id",
        b"section=directory&domain=acme.kumo.test&user=101'%20OR%20'1'='1&key=id",
        b"section=directory&domain=acme.kumo.test&user=" + b"1" * 5000 + b"&key=id",
        b"section=directory&domain=acme.kumo.test%00&user=101&key=id",
        b"section=directory&domain=acme.kumo.test&user=%3Cx%2F%3E&key=id",
        b"section=configuration&key_value=sofia.conf",
        b"section=languages",
        b"section=bogus&domain=acme.kumo.test",
    ],
)
def test_malformed_or_hostile_bodies_get_not_found(app, make_tenant, body):
    make_tenant()
    assert lookup(app, body) == NOT_FOUND


def test_a_database_failure_answers_not_found_not_500(settings, engine, make_tenant):
    make_tenant()
    store = LookupStore(engine=engine)
    app = ServiceApp(settings, store)

    def broken(*_args, **_kwargs):
        raise RuntimeError("database went away")

    store.fetch_one = broken
    assert lookup(app, captured("directory-sip_auth-register.txt")) == NOT_FOUND
    assert app.metrics.lookups("directory", "error") == 1


def test_a_change_is_seen_on_the_very_next_lookup(app, session_factory, make_tenant):
    make_tenant()
    first = params(user_element(lookup(app, captured("directory-sip_auth-register.txt"))), "param")["a1-hash"]
    doc = tenant_doc()
    doc["users"][0]["password"] = "Changed-Pass-2026"
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, doc)
    second = params(user_element(lookup(app, captured("directory-sip_auth-register.txt"))), "param")[
        "a1-hash"
    ]
    assert first != second
    assert second == hashlib.md5(b"101:acme.kumo.test:Changed-Pass-2026").hexdigest()
    # A removed user disappears at once.
    doc["users"] = [doc["users"][0]]
    doc["ring_groups"] = [{"name": "reception", "members": ["101"]}]
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, doc)
    assert (
        lookup(app, captured("directory-sip_auth-invite.txt").replace(b"&user=101&", b"&user=102&"))
        == NOT_FOUND
    )


def test_wrong_http_credentials_get_401(database_url, engine, make_tenant):
    make_tenant()
    settings = Settings(database_url=database_url, xml_curl_auth="freeswitch:xmlsecret")
    app = ServiceApp(settings, LookupStore(engine=engine))
    body = captured("directory-sip_auth-register.txt")
    assert app.handle("POST", "/fs/xml", {}, body).status == 401
    wrong = {b"authorization": b"Basic ZnJlZXN3aXRjaDp3cm9uZw=="}
    assert app.handle("POST", "/fs/xml", wrong, body).status == 401
    # The exact header the lab switch sent for gateway-credentials=freeswitch:xmlsecret.
    right = {b"authorization": b"Basic ZnJlZXN3aXRjaDp4bWxzZWNyZXQ="}
    assert user_element(app.handle("POST", "/fs/xml", right, body).body).get("id") == "101"
    assert app.metrics.lookups("other", "unauthorized") == 2


def test_cacheable_users_when_enabled(database_url, engine, make_tenant):
    make_tenant()
    settings = Settings(database_url=database_url, directory_cache_ms=30000, xml_curl_auth="off")
    app = ServiceApp(settings, LookupStore(engine=engine))
    app.metrics.set_esl_connected(True)  # cacheable only while flushes can reach the switch
    assert user_element(lookup(app, captured("directory-user_call.txt"))).get("cacheable") == "30000"


def test_domain_lookup_lists_no_users(app, make_tenant):
    make_tenant()
    body = b"section=directory&tag_name=domain&key_name=name&key_value=acme.kumo.test&domain=acme.kumo.test"
    root = etree.fromstring(lookup(app, body))
    assert root.find("section/domain").get("name") == "acme.kumo.test"
    assert root.findall(".//user") == []
