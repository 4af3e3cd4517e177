"""Issue 14 item 13: blind transfer (REFER) to an extension; to an external number refused."""

from __future__ import annotations

from e2e.esl import event_is
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
