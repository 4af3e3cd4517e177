"""A static gateway saved anywhere is admitted (or refused) at once: kumo has the switch reload its
ACLs when, and only when, the kumo-gateways network list changed (fsctl.gateways.acl_reload)."""

from __future__ import annotations

import copy
import logging
import sys
from pathlib import Path

import gevent
from gw_helpers import BETA, OSAKA, gateway_doc

from fsctl import db
from fsctl.esl.inbound import InboundConnection
from fsctl.gateways.acl_reload import RELOAD_ACL, GatewayAclReloader
from fsctl.metrics import Metrics
from fsctl.wiring import tenant_file
from fsctl.xmlcurl.store import LookupStore

sys.path.insert(0, str(Path(__file__).parent.parent / "esl"))
from eslfake import FakeSwitch  # noqa: E402


class Switch:
    """send_api of a switch that can be unplugged: what reached it, in order."""

    def __init__(self) -> None:
        self.up = True
        self.sent: list[str] = []

    def __call__(self, command: str) -> None:
        if not self.up:
            raise ConnectionError("event socket not connected")
        self.sent.append(command)


def apply(session_factory, doc: dict) -> None:
    with db.session_scope(session_factory) as session:
        tenant_file().apply(session, doc)


def loaded(engine, make_tenant, *docs: dict) -> tuple[GatewayAclReloader, Switch]:
    """A reloader that has had the switch load the list of these tenants (its first connection)."""
    for doc in docs:
        make_tenant(**doc)
    switch = Switch()
    reloader = GatewayAclReloader(LookupStore(engine=engine), switch)
    reloader.on_connect()
    assert switch.sent == [RELOAD_ACL]  # what the switch loaded before is unknown: once
    assert reloader.check_once() is False
    reloader.on_connect()  # nothing changed while away: nothing to reload
    switch.sent.clear()
    return reloader, switch


def beta_with_static(address: str) -> dict:
    doc = copy.deepcopy(BETA)
    doc["gateways"].append(
        dict(
            OSAKA,
            name="kobe",
            address=address,
            cidr=[f"{address}/32"],
            numbers=[{"number": "0788880000", "destination": {"user": "201"}}],
        )
    )
    return doc


def test_adding_readdressing_and_removing_a_static_gateway_each_reload_once(
    engine, session_factory, make_tenant, caplog
):
    doc = gateway_doc()
    doc["gateways"] = [g for g in doc["gateways"] if g["name"] != "osaka"]
    reloader, switch = loaded(engine, make_tenant, doc)
    caplog.set_level(logging.INFO, logger="fsctl.gateways.acl_reload")

    apply(session_factory, gateway_doc())  # osaka added
    assert reloader.check_once() is True and switch.sent == [RELOAD_ACL]
    assert "added gw" in caplog.text
    assert reloader.check_once() is False and switch.sent == [RELOAD_ACL]

    moved = gateway_doc()
    moved["gateways"][1] = dict(moved["gateways"][1], address="198.51.100.1", cidr=["198.51.100.0/29"])
    apply(session_factory, moved)
    assert reloader.check_once() is True and switch.sent == [RELOAD_ACL] * 2
    assert "re-addressed gw" in caplog.text

    apply(session_factory, doc)  # osaka removed
    assert reloader.check_once() is True and switch.sent == [RELOAD_ACL] * 3
    assert "removed gw" in caplog.text
    assert reloader.check_once() is False and switch.sent == [RELOAD_ACL] * 3


def test_changes_that_leave_the_addresses_alone_reload_nothing(engine, session_factory, make_tenant):
    reloader, switch = loaded(engine, make_tenant, gateway_doc())
    doc = gateway_doc()
    doc["users"][0]["password"] = "New-password-1"
    doc["gateways"][1] = dict(doc["gateways"][1], channels=4, port=5080)  # not its admitted addresses
    doc["gateways"][0] = dict(doc["gateways"][0], password="Other-gw-pass-9")  # a registering one
    apply(session_factory, doc)
    assert reloader.check_once() is False
    apply(session_factory, copy.deepcopy(BETA))  # another tenant, registering gateway only
    assert reloader.check_once() is False
    assert switch.sent == []


def test_several_tenants_changed_at_once_make_one_reload(engine, session_factory, make_tenant):
    reloader, switch = loaded(engine, make_tenant, gateway_doc())
    moved = gateway_doc()
    moved["gateways"][1] = dict(moved["gateways"][1], address="198.51.100.1", cidr=["198.51.100.0/29"])
    apply(session_factory, moved)
    apply(session_factory, beta_with_static("192.0.2.20"))
    assert reloader.check_once() is True
    assert switch.sent == [RELOAD_ACL]


def test_a_change_while_the_switch_is_away_is_reloaded_on_reconnection(engine, session_factory, make_tenant):
    reloader, switch = loaded(engine, make_tenant, gateway_doc())
    switch.up = False
    apply(session_factory, beta_with_static("192.0.2.20"))
    for _ in range(2):
        try:
            reloader.check_once()
        except ConnectionError:
            pass
    assert switch.sent == []
    switch.up = True
    reloader.on_connect()
    assert switch.sent == [RELOAD_ACL]
    # Loaded now: neither the next check nor another reconnection sends it again.
    assert reloader.check_once() is False
    reloader.on_connect()
    assert switch.sent == [RELOAD_ACL]


def test_through_the_event_socket_a_saved_static_gateway_sends_reloadacl(
    engine, session_factory, make_tenant
):
    """The ESL fake (captured greeting; the bgapi reply is a synthetic "+OK")."""
    doc = gateway_doc()
    doc["gateways"] = [g for g in doc["gateways"] if g["name"] != "osaka"]
    make_tenant(**doc)
    fake = FakeSwitch("inbound-json-register.log", events=[]).start()
    connection = InboundConnection(fake.address, "ClueCon", Metrics(), resync=())
    reloader = GatewayAclReloader(LookupStore(engine=engine), connection.api, interval=0.02)
    connection.on_connect = reloader.on_connect
    reloader.start()
    connection.start()
    try:
        with gevent.Timeout(5):
            while RELOAD_ACL not in fake.received:
                gevent.sleep(0.01)
        gevent.sleep(0.1)
        assert fake.received.count(RELOAD_ACL) == 1
        apply(session_factory, gateway_doc())
        with gevent.Timeout(5):
            while fake.received.count(RELOAD_ACL) < 2:
                gevent.sleep(0.01)
    finally:
        reloader.stop()
        connection.stop()
        fake.stop()
