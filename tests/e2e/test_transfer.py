"""Blind transfer (REFER) to an extension; to an external number refused."""

from __future__ import annotations

from e2e.esl import event_is
from e2e.phones import SippRun, free_udp_port
from e2e.tenants import ACME
from e2e.test_pickup import joined
from e2e.test_restrictions import no_carrier_leg


def test_blind_transfer_to_an_extension_joins_the_caller_to_it(e2e) -> None:
    transferor = e2e.registered_phone(ACME.domain, "102")
    target = e2e.registered_phone(ACME.domain, "104")
    mark = e2e.events.mark()
    transferring = transferor.answer_and_transfer("104")
    answering = target.answer()
    call = e2e.phone(ACME.domain, "101").call("102", talk_ms=5000)
    assert transferring.wait().ok, transferring.responses("REFER")
    assert call.wait().ok, call.responses()
    assert answering.wait().ok
    # The REFER was accepted and its outcome reported to the transferor as a sipfrag NOTIFY.
    assert transferring.responses("REFER") == [202]
    assert any("SIP/2.0 200" in n for n in transferring.requests("NOTIFY"))
    joined(e2e, mark, "sofia/internal/101@", "sofia/internal/104@")


def test_blind_transfer_to_an_external_number_is_refused(e2e) -> None:
    transferor = e2e.registered_phone(ACME.domain, "102")
    mark = e2e.events.mark()
    transferring = transferor.answer_and_transfer("0612345678")
    call = e2e.phone(ACME.domain, "101").call_until_hung_up("102")
    assert transferring.wait().ok, transferring.responses("REFER")
    assert call.wait().ok, call.responses()
    hangup = e2e.events.wait_for(
        event_is("CHANNEL_HANGUP_COMPLETE", Caller_Destination_Number="0612345678"),
        since=mark,
        what="refusal",
    )
    assert hangup["Hangup-Cause"] in ("OUTGOING_CALL_BARRED", "CALL_REJECTED")
    assert no_carrier_leg(e2e, mark)


def _tag(header_line: str) -> str:
    return header_line.split("tag=", 1)[1].split(";")[0].strip()


def replaces_of(consult: SippRun, call_id: str) -> str:
    """The Replaces value naming the answered consultation `consult` (a uac run with `call_id`)
    from the transferor's side: "call-id;to-tag=..;from-tag=.." (RFC 3891)."""
    ok = next(m for m in consult.messages("received") if m.startswith("SIP/2.0 200") and "INVITE" in m)
    sent = consult.messages("sent")[0]
    to_tag = _tag(next(line for line in ok.splitlines() if line.lower().startswith("to:")))
    from_tag = _tag(next(line for line in sent.splitlines() if line.lower().startswith("from:")))
    return f"{call_id};to-tag={to_tag};from-tag={from_tag}"


def test_attended_transfer_joins_the_caller_to_the_consulted_party(e2e) -> None:
    transferor = e2e.registered_phone(ACME.domain, "102")
    consulted = e2e.registered_phone(ACME.domain, "104")
    # 102 first consults 104 (its own call, from another port of the same phone: a second line).
    answering = consulted.answer(timeout_s=40)
    consult_call_id = f"consult-{transferor.port}@kumo-e2e"
    keys = transferor._keys(to_user="104")
    auth = (transferor.extension, transferor.password, transferor.domain)
    consult = e2e.sipp.start(
        "uac_until_bye", e2e.registrar, free_udp_port(), keys, auth, timeout_s=40, call_id=consult_call_id
    )
    mark = e2e.events.mark()
    e2e.events.wait_for(
        event_is("CHANNEL_BRIDGE", Caller_Destination_Number="104"), since=mark, what="consult"
    )

    # Then 101 calls 102, and 102 transfers 101 onto the consultation (REFER with Replaces).
    transferring = transferor.answer_and_transfer(
        "104", timeout_s=40, replaces=replaces_of(consult, consult_call_id)
    )
    mark = e2e.events.mark()
    call = e2e.phone(ACME.domain, "101").call("102", talk_ms=6000, timeout_s=40)
    assert transferring.wait().ok, transferring.responses("REFER")
    assert transferring.responses("REFER") == [202]
    joined(e2e, mark, "sofia/internal/101@", "sofia/internal/104@")
    assert consult.wait().ok, consult.responses()  # 102's consultation leg was ended by the switch
    assert call.wait().ok, call.responses()
    assert answering.wait().ok
