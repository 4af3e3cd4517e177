"""A cluster proven by calls: Kamailio in front of two FreeSWITCH nodes (tests/e2e/cluster.py).

Tenant acme is placed on node A, beta on node B. Phones register with Kamailio's address and their
tenant's domain; which node holds a registration is read from that node's own `sofia status`.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest

from e2e.cluster import Cluster, build_cluster, kamailio_unavailable, routed_scenario
from e2e.conftest import throwaway_database
from e2e.esl import event_is
from e2e.phones import free_udp_port
from e2e.tenants import ACME, BETA, Tenant
from e2e.test_isolation import crafted_register
from e2e.test_pickup import bridge_between
from e2e.test_transfer import replaces_of

REQUIRED = os.environ.get("KUMO_E2E_REQUIRED") == "1"
# Kamailio's brute-force bans, short for the test: 3 failures within 60 s ban for 120 s (kumo's
# defaults are 4 in 300 s for 3600 s). Only the guessers' addresses 127.0.0.5/.7/.8 fail or are banned.
BAN_THRESHOLD = 3
BAN_OPTIONS = (
    "--auth-fail-threshold",
    str(BAN_THRESHOLD),
    "--auth-fail-window",
    "60",
    "--ban-seconds",
    "120",
)
GUESSER, NEIGHBOUR, SHARED_NAT, BANNED_BY_KUMO = "127.0.0.5", "127.0.0.6", "127.0.0.7", "127.0.0.8"
CALL_GUESSER = "127.0.0.9"
REALM_CROSSER = "127.0.0.10"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    reason = kamailio_unavailable()
    if reason:
        if REQUIRED:
            pytest.fail(f"KUMO_E2E_REQUIRED=1 but the cluster tests cannot run: {reason}")
        pytest.skip(reason)
    workdir = tmp_path_factory.mktemp("kumo-cluster")
    databases = throwaway_database(workdir, "kumo_cluster")
    database_url = next(databases)
    clusters = build_cluster(
        workdir, database_url, {"node-a": [ACME], "node-b": [BETA]}, kamailio_options=BAN_OPTIONS
    )
    try:
        yield next(clusters)
    finally:
        clusters.close()
        databases.close()


@pytest.fixture(autouse=True)
def _e2e_record(request, cluster: Cluster) -> Iterator[None]:
    """Replaces the single-switch session's recorder (these tests never start that switch): a
    failing test shows its SIP traces, each node's events and the end of Kamailio's log."""
    runs_before = len(cluster.sipp.runs)
    log_offset = cluster.kamailio.log_size()
    marks = {name: node.events.mark() for name, node in cluster.nodes.items() if node.events}

    def sections() -> list[tuple[str, str]]:
        out = [
            (f"SIP trace {run.name} (exit {run.returncode})", run.trace() + run.errors())
            for run in cluster.sipp.runs[runs_before:]
        ]
        for name, node in cluster.nodes.items():
            if node.events is not None and name in marks:
                out.append((f"{name} events", node.events.summary(marks[name])))
        out.append(("kamailio log", cluster.kamailio.log_since(log_offset)[-20000:]))
        return out

    request.node._e2e_sections = sections
    yield
    for run in cluster.sipp.runs:
        if run.proc.poll() is None:
            run.proc.kill()
            run.wait()
    while cluster.registered:
        cluster.registered.pop().unregister()


def _acme(cluster: Cluster, ext: str, registered: bool = True):
    make = cluster.registered_phone if registered else cluster.phone
    return make(ACME.domain, ext, ACME.password(ext))


def _beta(cluster: Cluster, ext: str, registered: bool = True):
    make = cluster.registered_phone if registered else cluster.phone
    return make(BETA.domain, ext, BETA.password(ext))


def test_phones_register_through_kamailio_on_their_tenants_node(cluster: Cluster) -> None:
    _acme(cluster, "101")
    _beta(cluster, "101")
    assert cluster.node_of_registration(ACME.domain, "101") == ["node-a"]
    assert cluster.node_of_registration(BETA.domain, "101") == ["node-b"]
    # the node reaches the phone back through Kamailio: the Path it stored
    reg = cluster.nodes["node-a"].registrations()
    assert "fs_path=" in reg and cluster.kamailio.address.split(":")[0] in reg


def test_extension_calls_inside_each_tenant_run_on_its_node(cluster: Cluster) -> None:
    for node, tenant_phone in (("node-a", _acme), ("node-b", _beta)):
        callee = tenant_phone(cluster, "102")
        events = cluster.nodes[node].events
        mark = events.mark()
        answering = callee.answer()
        call = tenant_phone(cluster, "101", registered=False).call("102", talk_ms=800)
        assert call.wait().ok, call.responses()
        assert answering.wait().ok, answering.responses()
        bridge = events.wait_for(event_is("CHANNEL_BRIDGE"), since=mark, what=f"bridge on {node}")
        assert bridge["FreeSWITCH-Switchname"] == node


def test_a_did_from_the_carrier_reaches_its_tenants_node(cluster: Cluster) -> None:
    phone = _beta(cluster, "101")
    node_b = cluster.nodes["node-b"]
    mark_a, mark_b = cluster.nodes["node-a"].events.mark(), node_b.events.mark()
    answering = phone.answer()
    call = cluster.carrier_call("0322220000", caller="0355551234", talk_ms=800)
    assert call.wait().ok, call.responses()
    assert answering.wait().ok, answering.responses()
    inbound = node_b.events.wait_for(
        event_is("CHANNEL_CREATE", Caller_Destination_Number="0322220000"), since=mark_b, what="DID on node B"
    )
    assert inbound["Channel-Name"].startswith("sofia/carrier/")
    assert not cluster.nodes["node-a"].events.matching(event_is("CHANNEL_CREATE"), since=mark_a)


def test_a_number_nobody_owns_gets_404_from_kamailio(cluster: Cluster) -> None:
    call = cluster.carrier_call("0399999999")
    call.wait()
    assert 404 in call.responses(), call.responses()


def _created(destination: str):
    return event_is("CHANNEL_CREATE", Caller_Destination_Number=destination)


def test_a_call_to_another_tenants_number_crosses_to_its_node(cluster: Cluster) -> None:
    callee = _beta(cluster, "101")
    node_a, node_b = cluster.nodes["node-a"], cluster.nodes["node-b"]
    mark_a, mark_b = node_a.events.mark(), node_b.events.mark()
    answering = callee.answer()
    call = _acme(cluster, "101", registered=False).call("0322220000", talk_ms=800)
    assert call.wait().ok, call.responses()
    assert answering.wait().ok, answering.responses()
    # it left node A through the carrier gateway (whose proxy is Kamailio) ...
    leaving = node_a.events.wait_for(
        lambda e: (
            e.get("Event-Name") == "CHANNEL_CREATE" and e.get("Channel-Name", "").startswith("sofia/carrier/")
        ),
        since=mark_a,
        what="the leg to the carrier gateway on node A",
    )
    assert "+81322220000" in leaving["Channel-Name"]
    # ... and Kamailio handed it to node B's carrier profile, which rang beta's 101
    arriving = node_b.events.wait_for(
        lambda e: (
            e.get("Event-Name") == "CHANNEL_CREATE"
            and e.get("Channel-Name", "").startswith("sofia/carrier/")
            and e.get("Call-Direction") == "inbound"
        ),
        since=mark_b,
        what="the call arriving on node B",
    )
    assert arriving["Caller-Caller-ID-Number"].endswith("312345678")
    node_b.events.wait_for(
        lambda e: e.get("Event-Name") == "CHANNEL_BRIDGE" and "101@" in e.get("Other-Leg-Channel-Name", ""),
        since=mark_b,
        what="beta 101 bridged on node B",
    )


def _carrier_answered(event) -> bool:
    return event.get("Event-Name") == "CHANNEL_ANSWER" and event.get("Channel-Name", "").startswith(
        "sofia/carrier/"
    )


def test_the_channel_limit_of_a_tenant_is_enforced_exactly(cluster: Cluster) -> None:
    limit = ACME.doc["max_external_channels"]
    assert limit == 2
    events = cluster.nodes["node-a"].events
    mark = events.mark()
    carrier = cluster.carrier_answers(calls=limit, timeout_s=40)
    calls = [
        _acme(cluster, ext, registered=False).call(f"0901234567{n}", talk_ms=6000)
        for n, ext in enumerate(("101", "102"))
    ]
    first = events.wait_for(_carrier_answered, since=mark, what="first carrier answer")
    events.wait_for(
        lambda e: _carrier_answered(e) and e.get("Unique-ID") != first["Unique-ID"], since=mark, what="second"
    )
    # past the per-second set-up cap (`limit hash kumo_rate`), so only the channel limit can refuse
    time.sleep(1.2)
    extra = _acme(cluster, "104", registered=False).call_refused("09099998888")
    assert extra.final_response() == 486, extra.responses()
    hangup = events.wait_for(_hangup_of("09099998888"), since=mark, what="the extra call refused")
    assert hangup["Hangup-Cause"] == "USER_BUSY"
    for call in calls:
        assert call.wait().ok, call.responses()
    assert carrier.wait().ok
    # released at hang-up: the next call goes out again
    carrier = cluster.carrier_answers(calls=1)
    again = _acme(cluster, "104", registered=False).call("09099998888", talk_ms=300)
    assert again.wait().ok, again.responses()
    assert carrier.wait().ok


def _hangup_of(destination: str):
    return event_is("CHANNEL_HANGUP_COMPLETE", Caller_Destination_Number=destination)


def test_moving_a_tenant_keeps_its_call_up_and_its_next_calls_run_on_the_new_node(cluster: Cluster) -> None:
    node_a, node_b = cluster.nodes["node-a"], cluster.nodes["node-b"]
    callee = _acme(cluster, "102")
    mark_a = node_a.events.mark()
    answering = callee.answer(timeout_s=40)
    up = _acme(cluster, "101", registered=False).call("102", talk_ms=5000)
    node_a.events.wait_for(event_is("CHANNEL_BRIDGE"), since=mark_a, what="the call up on node A")

    cluster.kumo.fsctl("nodes", "move", ACME.domain, "node-b")
    # the call that was up runs to its end on node A (its BYE follows the recorded route)
    assert up.wait().ok, up.responses()
    assert answering.wait().ok, answering.responses()
    ended = node_a.events.wait_for(
        event_is("CHANNEL_HANGUP_COMPLETE", Caller_Destination_Number="102"),
        since=mark_a,
        what="hang-up on A",
    )
    assert ended["Hangup-Cause"] == "NORMAL_CLEARING"

    # the phones re-register (same settings: Kamailio's address) and land on node B
    callee.register()
    assert "node-b" in cluster.node_of_registration(ACME.domain, "102")
    mark_a, mark_b = node_a.events.mark(), node_b.events.mark()
    answering = callee.answer()
    call = _acme(cluster, "101", registered=False).call("102", talk_ms=500)
    assert call.wait().ok, call.responses()
    assert answering.wait().ok, answering.responses()
    bridge = node_b.events.wait_for(event_is("CHANNEL_BRIDGE"), since=mark_b, what="the next call on node B")
    assert bridge["FreeSWITCH-Switchname"] == "node-b"
    assert not node_a.events.matching(event_is("CHANNEL_CREATE"), since=mark_a)


def test_a_static_customer_gateway_reaches_its_tenants_node_admitted_by_its_real_address(
    cluster: Cluster,
) -> None:
    """Kamailio finds the gateway by its source address and says it in X-AUTH-IP; the node's carrier
    profile admits the call by that address (apply-proxy-acl) into the gateway's own context."""
    from e2e.test_gateway_static import _host_address

    address = _host_address()
    if address is None:
        pytest.skip("a static gateway needs a non-loopback address on this machine")
    tenant = Tenant(
        {
            "domain": "sgwc.e2e.test",
            "name": "Static Gateway Cluster E2E",
            "timezone": "Asia/Tokyo",
            "status": "active",
            "max_external_channels": 2,
            "users": [{"extension": "101", "name": "Desk", "password": "E2e-sgwc-101-pass"}],
            "gateways": [
                {
                    "name": "shiten",
                    "address": address,
                    "port": free_udp_port(address),
                    "cidr": [f"{address}/32"],
                    "channels": 4,
                    "numbers": [{"number": "0355570100", "destination": {"user": "101"}}],
                }
            ],
        }
    )
    cluster.kumo.apply(tenant.doc)
    cluster.kumo.fsctl("nodes", "move", tenant.domain, "node-b")
    node_b = cluster.nodes["node-b"]
    deadline = time.monotonic() + 20
    while node_b.api(f"acl {address} kumo-gateways").strip() != "true":
        assert time.monotonic() < deadline, f"{address} never in node-b's kumo-gateways"
        time.sleep(0.2)
    desk = cluster.registered_phone(tenant.domain, "101", tenant.password("101"))
    mark = node_b.events.mark()
    answering = desk.answer()
    call = cluster.carrier_call("0355570100", caller="0355579999", talk_ms=500, source=address)
    assert call.wait().ok, call.responses()
    assert answering.wait().ok, answering.responses()
    arrived = node_b.events.wait_for(
        event_is("CHANNEL_CREATE", Caller_Destination_Number="0355570100"), since=mark, what="on node B"
    )
    assert arrived["Caller-Context"].startswith("gw_") and arrived["Caller-Context"].endswith(tenant.domain)


def _valet(action: str):
    return lambda e: e.get("Event-Subclass") == "valet_parking::info" and e.get("Action") == action


def test_park_retrieve_and_pickup_work_for_a_tenant_on_node_b(cluster: Cluster) -> None:
    if (
        cluster.kumo.rows(
            "SELECT s.name FROM tenants t JOIN switch_nodes s ON s.id = t.node_id WHERE t.domain = :d",
            d=ACME.domain,
        )[0].name
        != "node-b"
    ):
        cluster.kumo.fsctl("nodes", "move", ACME.domain, "node-b")
    events = cluster.nodes["node-b"].events
    mark = events.mark()
    parked = _acme(cluster, "101", registered=False).call_until_hung_up("705")
    hold = events.wait_for(_valet("hold"), since=mark, what="valet hold on node B")
    assert hold["Valet-Extension"] == "705" and hold["FreeSWITCH-Switchname"] == "node-b"
    retrieve = _acme(cluster, "102", registered=False).call("705", talk_ms=800)
    assert retrieve.wait().ok, retrieve.responses()
    assert parked.wait().ok, parked.responses()
    events.wait_for(lambda e: _valet("bridge")(e) and e.get("Unique-ID") == hold["Unique-ID"], since=mark)

    ringing_phone = _acme(cluster, "101")
    mark = events.mark()
    ringing = ringing_phone.answer(scenario="uas_noanswer")
    call = cluster.carrier_call("0312345001", caller="0355557777", talk_ms=4000)
    events.wait_for(
        lambda e: e.get("Event-Name") == "CHANNEL_PROGRESS" and "101@" in e.get("Channel-Name", ""),
        since=mark,
        what="101 ringing on node B",
    )
    picker = _acme(cluster, "102", registered=False).call_until_hung_up("**101")
    assert call.wait().ok, call.responses()
    assert picker.wait().ok, picker.responses()
    assert ringing.wait().ok
    events.wait_for(
        lambda e: (
            e.get("Event-Name") == "CHANNEL_BRIDGE"
            and "sofia/internal/102@" in (e.get("Channel-Name", "") + e.get("Other-Leg-Channel-Name", ""))
        ),
        since=mark,
        what="the carrier call bridged to the picker 102",
    )


def _guess(cluster: Cluster, extension: str, source: str, times: int = BAN_THRESHOLD) -> None:
    """Wrong passwords for extension@acme from `source` through Kamailio, each refused by the node."""
    for n in range(times):
        guess = cluster.phone(ACME.domain, extension, f"guess-{n}-wrong-pw", source=source)
        run = guess.register_refused()
        assert run.ok and run.responses("REGISTER") == [401, 403], run.responses()


def _kamailio_bans(cluster: Cluster) -> str:
    return cluster.kamailio.rpc("htable.dump", "kumo_bans")


def test_a_password_guesser_is_banned_at_the_edge_and_its_neighbours_are_not(cluster: Cluster) -> None:
    _guess(cluster, "103", GUESSER)
    bans = _kamailio_bans(cluster)
    assert f"{GUESSER}|103@{ACME.domain}" in bans and f"name: {GUESSER}\n" in bans, bans
    # Even the right password is refused now, at once: 403 to the first REGISTER, where a node
    # would have challenged it (401), so no node saw it. Another user from there likewise.
    for extension in ("103", "102"):
        right = cluster.phone(ACME.domain, extension, ACME.password(extension), source=GUESSER)
        run = right.register_forbidden()
        assert run.ok and run.responses("REGISTER") == [403], run.responses()
    # the same user from another address registers (on acme's node: A, or B after the move test)
    cluster.registered_phone(ACME.domain, "103", ACME.password("103"), source=NEIGHBOUR)
    assert len(cluster.node_of_registration(ACME.domain, "103")) == 1
    # kumo banned no one: every failure it saw came from Kamailio (FSCTL_TRUSTED_PROXIES)
    assert cluster.kumo.rows("SELECT ip FROM security_bans") == []

    # the operator lifts Kamailio's bans (README "Brute-force bans") and the right password works
    cluster.kamailio.rpc("htable.delete", "kumo_bans", GUESSER)
    cluster.kamailio.rpc("htable.delete", "kumo_bans", f"{GUESSER}|103@{ACME.domain}")
    cluster.registered_phone(ACME.domain, "103", ACME.password("103"), source=GUESSER)


def test_a_pair_trusted_from_an_address_keeps_registering_when_that_address_is_banned(
    cluster: Cluster,
) -> None:
    trusted = cluster.registered_phone(ACME.domain, "101", ACME.password("101"), source=SHARED_NAT)
    _guess(cluster, "102", SHARED_NAT)  # someone else behind the same address
    assert f"name: {SHARED_NAT}\n" in _kamailio_bans(cluster)
    right = cluster.phone(ACME.domain, "102", ACME.password("102"), source=SHARED_NAT)
    assert right.register_forbidden().responses("REGISTER") == [403]
    trusted.register()  # 101 from there: trusted, so the IP-wide ban does not refuse it
    assert any(SHARED_NAT in node.registrations() for node in cluster.nodes.values())


def test_wrong_passwords_on_calls_ban_the_caller_at_the_edge(cluster: Cluster) -> None:
    """INVITE digests count too: the 407 challenge of a call without credentials is no failure, the
    403 to a wrong password is."""
    for n in range(BAN_THRESHOLD):
        caller = cluster.phone(BETA.domain, "101", f"guess-{n}-wrong-pw", source=CALL_GUESSER)
        run = caller.call_refused("102")
        assert run.responses("INVITE")[-1] == 403, run.responses()
    assert f"name: {CALL_GUESSER}\n" in _kamailio_bans(cluster)
    right = cluster.phone(BETA.domain, "101", BETA.password("101"), source=CALL_GUESSER)
    assert right.register_forbidden().responses("REGISTER") == [403]


def test_a_phone_behind_a_nat_router_is_reached_through_kamailio(cluster: Cluster) -> None:
    """A phone whose Via and Contact name its office LAN address (10.255.255.x, which nothing here
    answers) while its packets come from the router's (127.0.0.1 and its port). Kamailio's Path
    carries the received address to the node, and its Contact alias brings in-dialog requests back
    to the router: its calls, and the BYE of the call it made, reach it (tests/e2e/test_nat.py
    proves the same on a single switch)."""
    lan_phone = cluster.phone(BETA.domain, "101", BETA.password("101"))
    lan_phone.private_address = "10.255.255.23:5060"
    lan_phone.register()
    cluster.registered.append(lan_phone)
    assert cluster.node_of_registration(BETA.domain, "101") == ["node-b"]
    answering = lan_phone.answer()
    caller = _beta(cluster, "102", registered=False).call("101", talk_ms=1000)
    assert caller.wait().ok, caller.responses()
    assert answering.wait().ok and answering.requests("BYE"), answering.errors()

    node_b = cluster.nodes["node-b"]
    callee = _beta(cluster, "102")
    answering = callee.answer(timeout_s=40)
    calling = cluster.phone(BETA.domain, "101", BETA.password("101"))
    calling.private_address = "10.255.255.23:5062"
    mark = node_b.events.mark()
    call = calling.call_until_hung_up("102")
    bridged = node_b.events.wait_for(
        event_is("CHANNEL_BRIDGE", Caller_Caller_ID_Number="101"), since=mark, timeout=20, what="the call up"
    )
    # the node ends the call: its BYE goes through Kamailio to the router's address
    node_b.api(f"uuid_kill {bridged['Unique-ID']} NORMAL_CLEARING")
    assert call.wait().ok, call.errors()
    assert call.requests("BYE")
    assert answering.wait().ok


def test_a_digest_answered_in_another_tenants_realm_is_refused_at_the_edge(cluster: Cluster) -> None:
    """beta's 101, with its own password, registers as acme's 101 and answers the node's challenge
    (realm acme) in its own realm: sofia would check it against beta's 101 and, were that user in
    the node's cache, accept it. Kamailio refuses it before any node sees the answer, and counts a
    failure of the account used; honest phones answer in the To's realm (every other test)."""
    replies: list[str] = []
    statuses = crafted_register(
        cluster.kamailio.address,
        "101",
        BETA.domain,
        BETA.password("101"),
        ACME.domain,
        source=REALM_CROSSER,
        replies=replies,
    )
    assert statuses == [401, 403], replies
    assert replies[-1].startswith("SIP/2.0 403 Forbidden: wrong realm"), replies[-1]
    assert not any(REALM_CROSSER in node.registrations() for node in cluster.nodes.values())
    assert f"{REALM_CROSSER}|101@{BETA.domain}" in cluster.kamailio.rpc("htable.dump", "kumo_fail")


def test_fsctl_bans_add_refuses_the_address_at_the_edge_until_lifted(cluster: Cluster) -> None:
    cluster.kumo.fsctl("bans", "add", BANNED_BY_KUMO, "--seconds", "120", "--reason", "e2e")
    phone = cluster.phone(BETA.domain, "101", BETA.password("101"), source=BANNED_BY_KUMO)
    run = phone.register_forbidden()
    assert run.ok and run.responses("REGISTER") == [403], run.responses()
    assert BANNED_BY_KUMO not in _kamailio_bans(cluster)  # refused by kumo's ban (kamailio_bans)
    cluster.kumo.fsctl("bans", "lift", "--ip", BANNED_BY_KUMO)
    phone.register()  # the very next request: no cache at the edge
    cluster.registered.append(phone)


def test_a_node_added_or_removed_is_probed_or_dropped_by_kamailio_within_seconds(cluster: Cluster) -> None:
    cluster.kumo.fsctl("nodes", "add", "node-c", "--sip", "127.0.0.9:5060", "--carrier", "127.0.0.9:5080")
    try:
        # read from kamailio_dispatcher by the 5 s reload timer; nothing answers there: inactive
        cluster.kamailio.wait_node_state("sip:127.0.0.9:5060", active=False, timeout=15)
    finally:
        cluster.kumo.fsctl("nodes", "remove", "node-c")
    deadline = time.monotonic() + 15
    while any(uri.startswith("sip:127.0.0.9") for _, uri in cluster.kamailio.node_states()):
        assert time.monotonic() < deadline, cluster.kamailio.node_states()
        time.sleep(0.2)
    # the nodes that were there keep their state (a reload resets it only until their next probe)
    cluster.kamailio.wait_node_state(cluster.nodes["node-a"].sip_uri, active=True)
    cluster.kamailio.wait_node_state(cluster.nodes["node-b"].sip_uri, active=True)


def test_a_node_that_stops_answering_loses_the_request_to_another_node_at_once(cluster: Cluster) -> None:
    """Before any probe notices: the REGISTER Kamailio sent to a silent node fails over after the node
    timeout (failure_route), and the node is taken out of rotation by that failure."""
    node_a, node_b = cluster.nodes["node-a"], cluster.nodes["node-b"]
    cluster.kumo.fsctl("nodes", "move", ACME.domain, "node-a")
    log_offset = cluster.kamailio.log_size()
    phone = _acme(cluster, "103", registered=False)
    os.kill(node_a.switch.pid, signal.SIGSTOP)  # alive but silent: no probe has failed yet
    try:
        phone.register()
        cluster.registered.append(phone)
        assert f"103@{ACME.domain}" in node_b.registrations()
        assert "failed (408) for REGISTER of node-a" in cluster.kamailio.log_since(log_offset)
    finally:
        os.kill(node_a.switch.pid, signal.SIGCONT)
    cluster.kamailio.wait_node_state(node_a.sip_uri, active=True, timeout=15)


def _messages_in(node, box: str) -> int:
    """The messages a node's mod_voicemail lists for a mailbox: `vm_boxcount <box>|all` says
    new:saved:new-urgent:saved-urgent (mod_voicemail.c, BOXCOUNT_SYNTAX)."""
    return sum(int(count) for count in node.api(f"vm_boxcount {box}|all").strip().split(":"))


def test_a_moved_tenant_keeps_its_mailbox_on_the_new_node(cluster: Cluster) -> None:
    """The message's file is in the shared folder and mod_voicemail's list of messages in the one
    database every node opens (kumo's voicemail.conf answer, odbc-dsn): the new node's mailbox has
    the message left on the old one."""
    node_a, node_b = cluster.nodes["node-a"], cluster.nodes["node-b"]
    cluster.kumo.fsctl("nodes", "move", ACME.domain, "node-a")
    box = f"103@{ACME.domain}"
    before = _messages_in(node_b, box)
    mark = node_a.events.mark()
    # 103 is not registered: the call goes to its voicemail on node A
    caller = _acme(cluster, "101", registered=False).call_until_hung_up("103", timeout_s=60)
    started = node_a.events.wait_for(
        event_is("CHANNEL_EXECUTE", Application="voicemail"), since=mark, what="voicemail on node A"
    )
    uuid = started["Unique-ID"]
    node_a.events.wait_for(event_is("RECORD_START", Unique_ID=uuid), since=mark, timeout=60, what="recording")
    time.sleep(4)  # longer than the profile's min-record-len (3 s)
    node_a.api(f"uuid_kill {uuid} NORMAL_CLEARING")
    assert caller.wait().ok, caller.responses()
    node_a.events.wait_for(
        event_is("MESSAGE_WAITING", MWI_Messages_Waiting="yes"), since=mark, timeout=20, what="the message"
    )

    cluster.kumo.fsctl("nodes", "move", ACME.domain, "node-b")
    # node B never saw the call, yet lists the message, and its file is the shared one
    assert _messages_in(node_b, box) == before + 1
    listed = node_b.api(f"vm_list {box}")
    assert uuid in listed, listed
    path = next(part for part in listed.split(":") if part.endswith(".wav"))
    assert path.startswith(str(cluster.workdir / "common-storage" / "voicemail")), path


def test_an_attended_transfer_to_another_tenants_number_crosses_to_its_node(cluster: Cluster) -> None:
    """A blind transfer may only reach the tenant's own extensions (fsctl/routing/blind_transfer.py),
    so another tenant's number is reached by an attended one: acme 102's consultation of beta's number
    is an ordinary outgoing call (node A -> Kamailio -> node B, which rings beta's 101), then 102's
    REFER with Replaces, sent along the route set Kamailio recorded, joins the caller 101 to it on
    node A."""
    node_a, node_b = cluster.nodes["node-a"], cluster.nodes["node-b"]
    cluster.kumo.fsctl("nodes", "move", ACME.domain, "node-a")
    transferor = _acme(cluster, "102")
    consulted = _beta(cluster, "101")
    assert cluster.node_of_registration(ACME.domain, "102") == ["node-a"]
    assert cluster.node_of_registration(BETA.domain, "101") == ["node-b"]
    number = BETA.doc["numbers"][0]["number"]  # routed to beta's 101 (tests/e2e/tenants.py)

    # 102 consults beta's number from a second line (another port of the same phone)
    mark_a, mark_b = node_a.events.mark(), node_b.events.mark()
    answering = consulted.answer(timeout_s=40)
    consult_call_id = f"consult-{transferor.port}@kumo-e2e"
    consult = cluster.sipp.start(
        routed_scenario(cluster.workdir, "uac_until_bye"),
        cluster.kamailio.address,
        free_udp_port(),
        transferor._keys(to_user=number),
        (transferor.extension, transferor.password, transferor.domain),
        timeout_s=40,
        call_id=consult_call_id,
    )
    node_a.events.wait_for(
        bridge_between("sofia/internal/102@", "sofia/carrier/"),
        since=mark_a,
        what="the consultation leaving node A",
    )
    arriving = node_b.events.wait_for(
        bridge_between("sofia/carrier/", "sofia/internal/101@"),
        since=mark_b,
        what="beta 101 answering on node B",
    )
    assert arriving["FreeSWITCH-Switchname"] == "node-b"

    # 101 calls 102, and 102 transfers 101 onto the consultation
    transferring = transferor.answer_and_transfer(
        number, timeout_s=40, replaces=replaces_of(consult, consult_call_id)
    )
    mark_a = node_a.events.mark()
    call = _acme(cluster, "101", registered=False).call("102", talk_ms=6000, timeout_s=40)
    assert transferring.wait().ok, transferring.responses("REFER")
    assert transferring.responses("REFER") == [202]
    # the REFER went along the route set Kamailio recorded, not straight to node A
    refer = next(m for m in transferring.messages("sent") if m.startswith("REFER "))
    assert f"Route: <sip:{cluster.kamailio.address};lr>" in refer, refer
    joined = node_a.events.wait_for(
        bridge_between("sofia/internal/101@", "sofia/carrier/"),
        since=mark_a,
        what="101 joined to the consultation",
    )
    assert "+81" + number[1:] in joined["Channel-Name"] + joined["Other-Leg-Channel-Name"]
    assert consult.wait().ok, consult.responses()  # node A ended 102's consultation leg
    # 101 hangs up after talking to beta's phone: its BYE crosses to node B and ends beta's 101
    assert call.wait().ok, call.responses()
    assert answering.wait().ok, answering.responses()
    carrier_side = (
        arriving["Unique-ID"]
        if arriving["Channel-Name"].startswith("sofia/carrier/")
        else arriving["Other-Leg-Unique-ID"]
    )
    ended = node_b.events.wait_for(
        event_is("CHANNEL_HANGUP_COMPLETE", Unique_ID=carrier_side),
        since=mark_b,
        what="the carrier-side leg on node B hung up",
    )
    assert ended["Hangup-Cause"] == "NORMAL_CLEARING"


def test_a_stopped_node_is_dropped_within_seconds_and_its_tenant_works_on_another(cluster: Cluster) -> None:
    """Runs last: node A stays stopped."""
    node_a, node_b = cluster.nodes["node-a"], cluster.nodes["node-b"]
    cluster.kumo.fsctl("nodes", "move", ACME.domain, "node-a")
    phone = _acme(cluster, "102")
    assert "node-a" in cluster.node_of_registration(ACME.domain, "102")

    node_a.close_events()
    node_a.switch.stop()
    seconds = cluster.kamailio.wait_node_state(node_a.sip_uri, active=False, timeout=15)
    # probes every 2 s, a node is inactive after one unanswered probe (tm's 2 s timeout here)
    assert seconds < 8, seconds
    cluster.kamailio.wait_node_state(node_a.carrier_uri, active=False, timeout=15)

    # before anyone moves the tenant, Kamailio already sends its phones to an active node
    phone.register()
    assert f"102@{ACME.domain}" in node_b.registrations()
    # the operator moves the tenant (its DIDs and calls follow); the phones keep their settings
    cluster.kumo.fsctl("nodes", "move", ACME.domain, "node-b")
    phone.register()
    mark_b = node_b.events.mark()
    answering = phone.answer()
    call = _acme(cluster, "101", registered=False).call("102", talk_ms=500)
    assert call.wait().ok, call.responses()
    assert answering.wait().ok, answering.responses()
    node_b.events.wait_for(event_is("CHANNEL_BRIDGE"), since=mark_b, what="the call on node B")
