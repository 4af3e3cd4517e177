"""Phones behind an office's NAT router, the usual case for a cloud PBX, proven through the real switch.

A NATed phone's Via and Contact name its address on the office LAN (here 10.255.255.x, which nothing
on this machine answers), while its packets come from the router's public address (here 127.0.0.1 and
the phone's port). The switch must reach it where its packets came from: sofia detects the NAT
(freeswitch/sip_profiles/internal.xml: apply-nat-acl nat.auto, aggressive-nat-detection) and keeps the
registration's received address (NDLB-received-in-nat-reg-contact), so its calls and the BYE that
ends them reach the router's address. Were the NAT not handled, every test here would fail: the
INVITE or the BYE would go to the LAN address.
"""

from __future__ import annotations

from e2e.esl import event_is
from e2e.tenants import ACME


def test_a_phone_behind_a_nat_router_gets_its_calls(e2e) -> None:
    lan_phone = e2e.phone(ACME.domain, "103")
    lan_phone.private_address = "10.255.255.13:5060"
    lan_phone.register()
    e2e.registered.append(lan_phone)
    # The switch calls it at the address its REGISTER came from, not at the Contact it wrote.
    contact = e2e.switch.api(f"sofia_contact */103@{ACME.domain}")
    assert f"127.0.0.1:{lan_phone.port}" in contact, contact

    answering = lan_phone.answer()
    caller = e2e.phone(ACME.domain, "102").call("103", talk_ms=1000)
    assert caller.wait().ok, caller.responses()
    # It answered (its 200 names the LAN address too) and got the BYE when the caller hung up.
    assert answering.wait().ok, answering.errors()
    assert answering.requests("BYE")


def test_a_phone_behind_a_nat_router_gets_the_bye_of_its_own_call(e2e) -> None:
    callee = e2e.registered_phone(ACME.domain, "102")
    answering = callee.answer(timeout_s=40)
    lan_phone = e2e.phone(ACME.domain, "103")
    lan_phone.private_address = "10.255.255.13:5062"
    mark = e2e.events.mark()
    caller = lan_phone.call_until_hung_up("102")
    bridged = e2e.events.wait_for(
        event_is("CHANNEL_BRIDGE", Caller_Caller_ID_Number="103"), since=mark, timeout=20, what="the call up"
    )
    # The switch ends the call (as when the other side hangs up): its BYE must reach the caller at
    # the router's address, where the INVITE came from.
    e2e.switch.api(f"uuid_kill {bridged['Unique-ID']} NORMAL_CLEARING")
    assert caller.wait().ok, caller.errors()
    assert caller.requests("BYE")
    assert answering.wait().ok
