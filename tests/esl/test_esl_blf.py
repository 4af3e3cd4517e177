"""Busy lamps (BLF) per tenant: what the switch publishes itself and what kumo sets for it.

The switch does the work (manage-presence on the phones' profile): every leg with a `presence_id`
publishes PRESENCE_IN as it rings, answers and hangs up, and sofia NOTIFYs the phones subscribed to
that user@domain; mod_valet_parking publishes its slots as `<slot>@<lot domain>` (proto `park`).
kumo sets: the dial string's `presence_id=${dialed_user}@${dialed_domain}` on every leg that rings a
phone, and the lot name `park@<domain>`; a phone's own leg gets `<user>@<domain>` from sofia (From of
its authenticated INVITE, sofia.c). These tests read both from the captures and the rendered XML.
"""

from __future__ import annotations

from pathlib import Path

from eslfake import stream_bytes
from lxml import etree

from fsctl.esl.events import make_event
from fsctl.esl.protocol import FrameReader, decode_event
from fsctl.routing.plan import park_lot
from fsctl.xml.directory import render_domain

REPO = Path(__file__).resolve().parents[2]


def events(name: str):
    out = []
    for frame in FrameReader().feed(stream_bytes(name)):
        decoded = decode_event(frame)
        if decoded is not None:
            out.append(make_event(*decoded))
    return out


def test_every_phone_leg_of_the_captures_carries_its_own_presence():
    checked = 0
    for name in ("inbound-plain-bridge.log", "inbound-plain-pickup.log", "inbound-plain-transfer.log"):
        for event in events(name):
            if event.name != "CHANNEL_CREATE":
                continue
            h = event.headers
            if h.get("variable_dialed_user"):  # the leg that rings a phone: the dial string's presence_id
                assert (
                    h["variable_presence_id"] == f"{h['variable_dialed_user']}@{h['variable_dialed_domain']}"
                )
                checked += 1
            elif h.get("variable_sip_from_user") and h.get("Call-Direction") == "inbound":
                # the phone's own leg: sofia takes its From user@host
                assert (
                    h["variable_presence_id"]
                    == f"{h['variable_sip_from_user']}@{h['variable_sip_from_host']}"
                )
                checked += 1
    assert checked >= 6


def test_the_switch_publishes_ringing_answered_and_hangup_per_leg():
    states = [
        (e.get("from"), e.get("Channel-State"), e.get("status"))
        for e in events("inbound-plain-bridge.log")
        if e.name == "PRESENCE_IN" and e.get("proto") == "any"
    ]
    callee = [s for s in states if s[0] == "1002@acme.example"]
    assert callee[0][1] == "CS_ROUTING" and callee[-1][1] == "CS_HANGUP"
    assert any(status == "answered" for _, _, status in callee)


def test_the_dial_string_puts_the_dialled_users_presence_on_the_leg():
    for domain in ("acme.kumo.test", "beta.kumo.test"):
        doc = etree.fromstring(render_domain(domain))
        dial = doc.find(".//param[@name='dial-string']").get("value")
        assert "presence_id=${dialed_user}@${dialed_domain}" in dial
        assert "${sofia_contact(*/${dialed_user}@${dialed_domain})}" in dial


def test_park_slots_publish_under_the_tenants_domain():
    # In the lab the lot was "lot1" (no domain): valet fell back to the switch's default domain.
    # kumo's lot names the tenant, which mod_valet_parking takes as the slots' presence domain.
    park = [
        e for e in events("inbound-plain-park.log") if e.name == "PRESENCE_IN" and e.get("proto") == "park"
    ]
    slot = [e for e in park if e.get("login") == "6001"]
    assert [e.get("answer-state") for e in slot] == ["confirmed", "terminated"]  # parked, then empty
    assert slot[0].get("from") == "6001@acme.example"
    assert park_lot("acme.kumo.test").split("@", 1) == ["park", "acme.kumo.test"]


def test_the_phones_profile_manages_presence_and_the_carriers_does_not():
    internal = etree.parse(str(REPO / "freeswitch/sip_profiles/internal.xml"))
    carrier = etree.parse(str(REPO / "freeswitch/sip_profiles/carrier.xml"))
    assert internal.find(".//param[@name='manage-presence']").get("value") == "true"
    assert internal.find(".//param[@name='auth-subscriptions']").get("value") == "true"
    assert carrier.find(".//param[@name='manage-presence']").get("value") == "false"
    # Either of these would fold every tenant's presence into one domain.
    for name in ("force-register-domain", "force-subscription-domain", "presence-hosts"):
        assert internal.find(f".//param[@name='{name}']") is None, name


def _acme_and_beta(make_tenant) -> None:
    """Two tenants with the same extension 101."""
    make_tenant()
    make_tenant(
        domain="beta.kumo.test",
        users=[{"extension": "101", "name": "beta", "password": "Str0ng-b101-pass"}],
        numbers=[],
        ring_groups=[],
        park=None,
    )


def _lookup(settings, engine, body: bytes) -> bytes:
    """The service's answer to one xml_curl body."""
    from fsctl.xmlcurl.app import ServiceApp
    from fsctl.xmlcurl.store import LookupStore

    store = LookupStore(engine=engine)
    try:
        response = ServiceApp(settings, store).handle("POST", "/fs/xml", {}, body)
    finally:
        store.reset()
    assert response.status == 200
    return response.body


def test_a_phone_cannot_watch_another_tenants_lamps(settings, engine, make_tenant):
    """Synthetic: the captured INVITE digest lookup (directory-sip_auth-invite.txt) rewritten into the
    SUBSCRIBE digest lookup sofia makes for a BLF subscription (sip_auth_method, sip_to_*)."""
    from kumo_support import read_fixture

    from fsctl.xml.document import NOT_FOUND

    _acme_and_beta(make_tenant)
    base = read_fixture("xml_curl/directory-sip_auth-invite.txt").replace(b"&user=1001&", b"&user=101&")
    base = base.replace(b"sip_auth_method=INVITE", b"sip_auth_method=SUBSCRIBE")

    def subscribe(subscriber_domain: str, target: bytes) -> bytes:
        body = base.replace(b"acme.example", subscriber_domain.encode())
        body = body.replace(b"sip_to_user=1002&sip_to_host=" + subscriber_domain.encode(), target)
        assert b"sip_auth_method=SUBSCRIBE" in body
        return _lookup(settings, engine, body)

    own_line = subscribe("acme.kumo.test", b"sip_to_user=102&sip_to_host=acme.kumo.test")
    own_slot = subscribe("acme.kumo.test", b"sip_to_user=park%2B701&sip_to_host=acme.kumo.test")
    foreign = subscribe("beta.kumo.test", b"sip_to_user=102&sip_to_host=acme.kumo.test")
    assert b'<user id="101"' in own_line and b'<user id="101"' in own_slot
    assert foreign == NOT_FOUND
    # the same beta phone may watch its own tenant's lines
    assert b'<user id="101"' in subscribe("beta.kumo.test", b"sip_to_user=101&sip_to_host=beta.kumo.test")


def test_a_phone_cannot_register_as_another_tenants_user(settings, engine, make_tenant):
    """Synthetic: the captured REGISTER digest lookup (directory-sip_auth-register.txt) as a crafted
    client sends it when it answers beta's challenge in its own realm (acme) for To: 101@beta. Sofia
    looks the user up in the realm answered and, were the lookup to succeed, would store the contact
    as beta's 101 (sip_registrations keeps the To's user and host) and ring it for beta's calls."""
    from kumo_support import read_fixture

    from fsctl.xml.document import NOT_FOUND

    _acme_and_beta(make_tenant)
    base = read_fixture("xml_curl/directory-sip_auth-register.txt").replace(
        b"acme.example", b"acme.kumo.test"
    )
    base = base.replace(b"user=1001&", b"user=101&").replace(
        b"sip_auth_username=1001&", b"sip_auth_username=101&"
    )
    assert b"sip_auth_method=REGISTER" in base and b"sip_to_host=acme.kumo.test" in base

    def register(to_host: bytes) -> bytes:
        return _lookup(
            settings, engine, base.replace(b"sip_to_host=acme.kumo.test", b"sip_to_host=" + to_host)
        )

    assert b'<user id="101"' in register(b"acme.kumo.test")  # its own tenant: served
    assert register(b"beta.kumo.test") == NOT_FOUND
    assert register(b"BETA.kumo.test") == NOT_FOUND
