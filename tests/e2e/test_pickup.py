"""Pickup of a ringing call with *8 (group) and **<ext> (directed)."""

from __future__ import annotations

from e2e.tenants import ACME


def bridge_between(one: str, other: str):
    """Matches the CHANNEL_BRIDGE joining a channel named like `one` with one named like `other`."""

    def check(e) -> bool:
        names = (e.get("Channel-Name", ""), e.get("Other-Leg-Channel-Name", ""))
        return e.get("Event-Name") == "CHANNEL_BRIDGE" and any(
            a.startswith(one) and b.startswith(other) for a, b in (names, names[::-1])
        )

    return check


def joined(e2e, mark: int, one: str, other: str):
    """The CHANNEL_BRIDGE that joined a channel named like `one` with one named like `other`."""
    return e2e.events.wait_for(bridge_between(one, other), since=mark, what=f"bridge {one} <-> {other}")


def test_directed_pickup_answers_the_call_ringing_on_that_extension(e2e) -> None:
    ringing_phone = e2e.registered_phone(ACME.domain, "101")
    mark = e2e.events.mark()
    ringing = ringing_phone.answer(scenario="uas_noanswer")
    call = e2e.carrier_call("0312345001", caller="0355557777", talk_ms=4000)
    e2e.events.wait_for(
        lambda e: e.get("Event-Name") == "CHANNEL_PROGRESS" and "101@" in e.get("Channel-Name", ""),
        since=mark,
        what="101 ringing",
    )
    picker = e2e.phone(ACME.domain, "102").call_until_hung_up("**101")
    assert call.wait().ok, call.responses()
    assert picker.wait().ok, picker.responses()
    assert ringing.wait().ok  # 101 stopped ringing (CANCEL) once the call was picked up
    joined(e2e, mark, "sofia/carrier/", "sofia/internal/102@")


def test_group_pickup_answers_a_call_ringing_in_the_group(e2e) -> None:
    first = e2e.registered_phone(ACME.domain, "101")
    second = e2e.registered_phone(ACME.domain, "102")
    mark = e2e.events.mark()
    rings = [first.answer(scenario="uas_noanswer"), second.answer(scenario="uas_noanswer")]
    call = e2e.carrier_call("0312345678", caller="0355558888", talk_ms=4000)
    e2e.events.wait_for(
        lambda e: e.get("Event-Name") == "CHANNEL_PROGRESS" and "102@" in e.get("Channel-Name", ""),
        since=mark,
        what="102 ringing",
    )
    picker = e2e.phone(ACME.domain, "104").call_until_hung_up("*8")
    assert call.wait().ok, call.responses()
    assert picker.wait().ok, picker.responses()
    for ring in rings:
        assert ring.wait().ok
    joined(e2e, mark, "sofia/carrier/", "sofia/internal/104@")
