"""The (N+1)th external call is refused while N are up, allowed again after."""

from __future__ import annotations

import time

from e2e.esl import event_is
from e2e.tenants import ACME


def _carrier_answered(event) -> bool:
    return event.get("Event-Name") == "CHANNEL_ANSWER" and event.get("Channel-Name", "").startswith(
        "sofia/carrier/"
    )


def test_channel_limit_refuses_the_extra_call_and_frees_its_channels(e2e) -> None:
    limit = ACME.doc["max_external_channels"]
    assert limit == 2
    mark = e2e.events.mark()
    carrier = e2e.carrier_answers(calls=limit, timeout_s=40)
    calls = [
        e2e.phone(ACME.domain, ext).call(f"0901234567{n}", talk_ms=6000)
        for n, ext in enumerate(("101", "102"))
    ]
    # Both external channels are up before the extra call is tried.
    e2e.events.wait_for(_carrier_answered, since=mark, what="first carrier answer")
    first = e2e.events.matching(_carrier_answered, since=mark)[0]
    e2e.events.wait_for(
        lambda e: _carrier_answered(e) and e.get("Unique-ID") != first["Unique-ID"], since=mark, what="second"
    )

    # kumo also caps call set-ups per second per tenant (`limit hash kumo_rate <tenant> 2/1`); a time
    # window, not an event: let it pass so that only the channel limit can refuse the next call.
    time.sleep(1.2)
    extra = e2e.phone(ACME.domain, "104").call_refused("09099998888")
    assert extra.ok, extra.responses()
    assert extra.final_response() == 486
    hangup = e2e.events.wait_for(
        event_is("CHANNEL_HANGUP_COMPLETE", Caller_Destination_Number="09099998888"), since=mark
    )
    assert hangup["Hangup-Cause"] == "USER_BUSY"
    assert not e2e.events.matching(
        lambda e: e.get("Event-Name") == "CHANNEL_CREATE" and "09099998888" in e.get("Channel-Name", ""),
        since=mark,
    )

    for call in calls:
        assert call.wait().ok, call.responses()
    assert carrier.wait().ok
    # Released at hang-up: the next call goes out.
    carrier = e2e.carrier().answer()
    again = e2e.phone(ACME.domain, "104").call("09099998888", talk_ms=300)
    assert again.wait().ok, again.responses()
    assert carrier.wait().ok
