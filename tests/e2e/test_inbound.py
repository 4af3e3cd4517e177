"""Calls from the carrier: ring groups (simultaneous, sequential), a DID, the ACL."""

from __future__ import annotations

from e2e.esl import event_is
from e2e.tenants import ACME


def _time_of(run, request: str) -> str:
    """The trace timestamp line just before the first received `request` (SIPp writes one per message)."""
    trace = run.trace()
    at = trace.index(f"\n{request} sip:")
    before = trace[:at].rstrip().splitlines()
    stamps = [line for line in before if line.startswith("-----")]
    return stamps[-1].split()[-1]


def test_representative_number_rings_the_group_simultaneously(e2e) -> None:
    first = e2e.registered_phone(ACME.domain, "101")
    second = e2e.registered_phone(ACME.domain, "102")
    mark = e2e.events.mark()
    ringing = first.answer(scenario="uas_noanswer")
    answering = second.answer(ring_ms=500)
    call = e2e.carrier_call("0312345678", talk_ms=1000)
    assert call.wait().ok, call.responses()
    assert answering.wait().ok
    assert ringing.wait().ok, "101 must ring too and be cancelled when 102 answers"
    # Both phones were offered the call before either answered: 101 got its CANCEL only then.
    assert len(ringing.requests("INVITE")) == 1 and len(ringing.requests("CANCEL")) == 1
    bridge = e2e.events.wait_for(event_is("CHANNEL_BRIDGE"), since=mark, what="bridge to the group")
    assert bridge["Other-Leg-Destination-Number"] == "102"


def test_sequential_group_rings_one_member_after_the_other(e2e) -> None:
    first = e2e.registered_phone(ACME.domain, "103")
    second = e2e.registered_phone(ACME.domain, "104")
    ringing = first.answer(scenario="uas_noanswer", timeout_s=40)
    answering = second.answer(ring_ms=200, timeout_s=40)
    call = e2e.carrier_call("0312345679", talk_ms=800)
    assert call.wait(40).ok, call.responses()
    assert ringing.wait().ok and answering.wait().ok
    # 104's phone was only offered the call after 103's ring time ended (its CANCEL).
    assert _time_of(answering, "INVITE") >= _time_of(ringing, "CANCEL")


def test_individual_did_rings_its_user(e2e) -> None:
    owner = e2e.registered_phone(ACME.domain, "101")
    mark = e2e.events.mark()
    answering = owner.answer()
    call = e2e.carrier_call("0312345001", caller="0355556666", talk_ms=800)
    assert call.wait().ok, call.responses()
    assert answering.wait().ok
    invite = answering.requests("INVITE")[0]
    from_header = next(line for line in invite.splitlines() if line.lower().startswith("from:"))
    assert "0355556666" in from_header  # the caller's number reaches the phone
    e2e.events.wait_for(event_is("CHANNEL_BRIDGE"), since=mark, what="bridge to 101")


def test_call_from_outside_the_carrier_addresses_is_refused(e2e) -> None:
    mark = e2e.events.mark()
    run = e2e.carrier_call("0312345678", refused=True, source="127.0.0.2")
    assert run.ok, run.responses()
    assert run.final_response() == 403
    # Refused by the profile's ACL before any channel existed: nothing was routed.
    assert not e2e.events.matching(event_is("CHANNEL_CREATE"), since=mark)
