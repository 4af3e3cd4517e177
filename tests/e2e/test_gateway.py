"""A customer gateway registers, its carried number comes in through it, and the
tenant's external calls go out through it."""

from __future__ import annotations

import time

import pytest

from e2e.esl import event_is
from e2e.phones import Phone
from e2e.tenants import TENANTS, Tenant
from e2e.test_outbound import header
from e2e.test_pickup import joined

GW_PASSWORD = "Gw-e2e-secret-0001"


@pytest.fixture(scope="module")
def branch(e2e) -> Tenant:
    doc = {
        "domain": "gw.e2e.test",
        "name": "Gateway E2E",
        "timezone": "Asia/Tokyo",
        "status": "active",
        "max_external_channels": 2,
        "outbound_via": "honsha",
        "users": [
            {"extension": "101", "name": "Desk", "password": "E2e-gw-101-pass", "caller_id": "0355550101"},
        ],
        "gateways": [
            {
                "name": "honsha",
                "password": GW_PASSWORD,
                "channels": 4,
                "numbers": [
                    {"number": "0355550100", "destination": {"user": "101"}},
                    {"number": "0355550101", "destination": {"user": "101"}},
                ],
            }
        ],
    }
    e2e.kumo.apply(doc)
    tenant = Tenant(doc)
    TENANTS[tenant.domain] = tenant
    return tenant


def _gateway(e2e, tenant: Tenant) -> Phone:
    gateway = e2e.phone(tenant.domain, "honsha", password=GW_PASSWORD)
    gateway.register()
    e2e.registered.append(gateway)
    return gateway


def test_gateway_registers_and_brings_in_its_carried_number(e2e, branch: Tenant) -> None:
    gateway = _gateway(e2e, branch)
    desk = e2e.registered_phone(branch.domain, "101")
    mark = e2e.events.mark()
    answering = desk.answer()
    call = gateway.call("0355550100", talk_ms=500)
    assert call.wait().ok, call.responses()
    assert answering.wait().ok
    joined(e2e, mark, "sofia/internal/honsha@", "sofia/internal/101@")


def test_external_call_goes_out_through_the_gateway_with_a_carried_number(e2e, branch: Tenant) -> None:
    gateway = _gateway(e2e, branch)
    mark = e2e.events.mark()
    answering = gateway.answer()
    call = e2e.phone(branch.domain, "101").call("0612345678", talk_ms=500)
    assert call.wait().ok, call.responses()
    assert answering.wait().ok
    invite = answering.requests("INVITE")[0]
    assert "0612345678" in header(invite, "To")
    # The caller ID is a number the gateway carries (the user's own caller_id here).
    assert "0355550101" in header(invite, "From") + header(invite, "P-Asserted-Identity") + header(
        invite, "Remote-Party-ID"
    )
    # Nothing went to the platform's carrier.
    assert not e2e.events.matching(
        lambda e: (
            e.get("Event-Name") == "CHANNEL_CREATE" and e.get("Channel-Name", "").startswith("sofia/carrier/")
        ),
        since=mark,
    )
    e2e.events.wait_for(event_is("CHANNEL_BRIDGE", Caller_Destination_Number="0612345678"), since=mark)


def test_gateway_channel_plan_refuses_the_extra_call(e2e, branch: Tenant) -> None:
    gateway = _gateway(e2e, branch)
    plan = branch.doc["gateways"][0]["channels"]
    mark = e2e.events.mark()
    # The gateway answers every call (several at once); stopped at the end.
    answering = e2e.sipp.start("uas_many", "", gateway.port, duration_ms=100, timeout_s=60, server=True)
    e2e.sipp.wait_listening(answering, gateway.port)
    desk = e2e.phone(branch.domain, "101")
    calls = []
    for n in range(plan):
        if n and n % 2 == 0:
            # kumo's per-tenant set-up rate (2/s): a time window, not an event.
            time.sleep(1.2)
        calls.append(desk.call(f"061234500{n}", talk_ms=9000, timeout_s=40))

    def up() -> list:
        return e2e.events.matching(
            lambda e: e.get("Event-Name") == "CHANNEL_ANSWER" and "honsha@" in e.get("Channel-Name", ""),
            since=mark,
        )

    e2e.wait_until(lambda: len(up()) >= plan, timeout=20, what=f"{plan} calls up through the gateway")
    time.sleep(1.2)
    extra = desk.call_refused("0612349999")
    assert extra.ok, extra.responses()
    assert extra.final_response() == 486
    hangup = e2e.events.wait_for(
        event_is("CHANNEL_HANGUP_COMPLETE", Caller_Destination_Number="0612349999"), since=mark
    )
    assert hangup["Hangup-Cause"] == "USER_BUSY"
    for call in calls:
        assert call.wait().ok, call.responses()
    answering.proc.kill()
    answering.wait()
    assert len(answering.requests("INVITE")) == plan
