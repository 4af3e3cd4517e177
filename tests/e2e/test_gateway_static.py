"""A customer gateway admitted by its static address (no registration): its carried number comes in
from that address only, and the tenant's external calls go out to it."""

from __future__ import annotations

import socket

import pytest

from e2e.esl import event_is
from e2e.phones import free_udp_port
from e2e.tenants import TENANTS, Tenant
from e2e.test_outbound import header


def _host_address() -> str | None:
    """This machine's own non-loopback IPv4 address (a static gateway may not be a loopback one)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: the kernel only picks the source
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def admitted(e2e, address: str) -> bool:
    """What the switch answers now: is `address` in its loaded kumo-gateways list."""
    return e2e.switch.api(f"acl {address} kumo-gateways").strip() == "true"


@pytest.fixture(scope="module")
def shiten(e2e) -> tuple[Tenant, str, int]:
    address = _host_address()
    if address is None:
        pytest.skip("a static gateway needs a non-loopback address on this machine")
    port = free_udp_port(address)
    doc = {
        "domain": "sgw.e2e.test",
        "name": "Static Gateway E2E",
        "timezone": "Asia/Tokyo",
        "status": "active",
        "max_external_channels": 2,
        "outbound_via": "shiten",
        "users": [
            {"extension": "101", "name": "Desk", "password": "E2e-sgw-101-pass", "caller_id": "0355560101"},
        ],
        "gateways": [
            {
                "name": "shiten",
                "address": address,
                "port": port,
                "cidr": [f"{address}/32"],
                "channels": 4,
                "numbers": [
                    {"number": "0355560100", "destination": {"user": "101"}},
                    {"number": "0355560101", "destination": {"user": "101"}},
                ],
            }
        ],
    }
    assert not admitted(e2e, address)
    e2e.kumo.apply(doc)
    # No one runs reloadacl: kumo has the switch reload its ACLs because the kumo-gateways list changed.
    e2e.wait_until(lambda: admitted(e2e, address), timeout=20, what=f"{address} in kumo-gateways")
    tenant = Tenant(doc)
    TENANTS[tenant.domain] = tenant
    return tenant, address, port


def test_static_gateway_brings_in_its_carried_number_from_its_address(e2e, shiten) -> None:
    tenant, address, _ = shiten
    desk = e2e.registered_phone(tenant.domain, "101")
    mark = e2e.events.mark()
    answering = desk.answer()
    call = e2e.carrier_call("0355560100", caller="0355569999", talk_ms=500, source=address)
    assert call.wait().ok, call.responses()
    assert answering.wait().ok
    bridged = e2e.events.wait_for(
        event_is("CHANNEL_BRIDGE", Caller_Destination_Number="0355560100"), since=mark, what="bridge"
    )
    # The ACL token put the call in the gateway's own context, not the carrier's.
    assert bridged["Caller-Context"].startswith("gw_") and bridged["Caller-Context"].endswith(tenant.domain)


def test_the_same_number_from_another_address_is_refused(e2e, shiten) -> None:
    mark = e2e.events.mark()
    run = e2e.carrier_call("0355560100", caller="0355569999", refused=True, source="127.0.0.2")
    assert run.ok, run.responses()
    assert run.final_response() == 403
    assert not e2e.events.matching(event_is("CHANNEL_CREATE"), since=mark)


def test_external_call_goes_out_to_the_static_gateway(e2e, shiten) -> None:
    tenant, address, port = shiten
    mark = e2e.events.mark()
    answering = e2e.sipp.start("uas", "", port, duration_ms=200, timeout_s=30, server=True, local_ip=address)
    e2e.sipp.wait_listening(answering, port)
    call = e2e.phone(tenant.domain, "101").call("0612345678", talk_ms=500)
    assert call.wait().ok, call.responses()
    assert answering.wait().ok
    invite = answering.requests("INVITE")[0]
    assert "0612345678" in header(invite, "To")
    assert "0355560101" in header(invite, "From") + header(invite, "P-Asserted-Identity") + header(
        invite, "Remote-Party-ID"
    )
    # It left through the carrier profile to the gateway's address, not through the platform's carrier.
    out = e2e.events.wait_for(
        lambda e: (
            e.get("Event-Name") == "CHANNEL_CREATE"
            and e.get("Call-Direction") == "outbound"
            and "0612345678" in e.get("Channel-Name", "")
        ),
        since=mark,
        what="outbound leg",
    )
    assert out["Channel-Name"] == f"sofia/carrier/0612345678@{address}:{port}"


def test_a_removed_static_gateway_is_refused_at_once(e2e, shiten) -> None:
    """Last in this module: it removes the gateway the tests above use."""
    tenant, address, _ = shiten
    # Its numbers go with it, so the user's caller ID (one of them) too.
    users = [{k: v for k, v in u.items() if k != "caller_id"} for u in tenant.doc["users"]]
    doc = dict(tenant.doc, gateways=[], outbound_via="carrier", users=users)
    e2e.kumo.apply(doc)
    e2e.wait_until(lambda: not admitted(e2e, address), timeout=20, what=f"{address} out of kumo-gateways")
    mark = e2e.events.mark()
    run = e2e.carrier_call("0355560100", caller="0355569999", refused=True, source=address)
    assert run.ok, run.responses()
    assert run.final_response() == 403
    assert not e2e.events.matching(event_is("CHANNEL_CREATE"), since=mark)
