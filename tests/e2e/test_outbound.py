"""Out through the carrier: caller ID, 184/186, the CDR rated at the brochure price."""

from __future__ import annotations

import re

from e2e.esl import event_is
from e2e.tenants import ACME
from e2e.test_calls import _cdrs, _last_cdr_id


def header(message: str, name: str) -> str:
    for line in message.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() == name.lower():
            return value.strip()
    return ""


def call_out(e2e, extension: str, dialled: str, talk_ms: int = 1200):
    """`extension` of acme dials `dialled`; the SIPp carrier answers. Returns the carrier's INVITE."""
    carrier = e2e.carrier().answer(ring_ms=100)
    call = e2e.phone(ACME.domain, extension).call(dialled, talk_ms=talk_ms)
    assert call.wait().ok, call.responses()
    assert carrier.wait().ok
    return carrier.requests("INVITE")[0]


def _uri_user(uri_line: str) -> str:
    return re.search(r"sip:([^@;>]+)@", uri_line).group(1)


def test_carrier_sees_the_tenant_number_and_the_call_is_rated_as_mobile(e2e) -> None:
    since = _last_cdr_id(e2e)
    mark = e2e.events.mark()
    invite = call_out(e2e, "101", "09012345678", talk_ms=1500)
    assert _uri_user(invite.splitlines()[0]) in ("09012345678", "+819012345678")
    # kumo_carrier_caller_id_type=pid: the number as P-Asserted-Identity, E.164, and
    # the same number in From (caller-id-in-from).
    assert "+81312345678" in header(invite, "P-Asserted-Identity")
    assert _uri_user(header(invite, "From")) == "+81312345678"
    assert "id" not in header(invite, "Privacy")
    hangup = e2e.events.wait_for(
        event_is(
            "CHANNEL_HANGUP_COMPLETE", Call_Direction="inbound", Caller_Destination_Number="09012345678"
        ),
        since=mark,
        what="caller leg ends",
    )
    rows = e2e.wait_until(
        lambda: [r for r in _cdrs(e2e, ACME.domain, since) if r.uuid == hangup["Unique-ID"]]
    )
    assert (rows[0].call_class, rows[0].direction) == ("mobile", "out")
    assert rows[0].billsec >= 1
    e2e.kumo.fsctl("cdr", "rate")
    charge = {r.uuid: r.charge_yen for r in _cdrs(e2e, ACME.domain, since)}[hangup["Unique-ID"]]
    # Brochure: 16 yen per started minute to mobiles.
    assert charge == 16 * ((rows[0].billsec + 59) // 60)


def test_184_withholds_the_caller_id_for_that_call(e2e) -> None:
    invite = call_out(e2e, "101", "1840612345678", talk_ms=300)
    assert _uri_user(invite.splitlines()[0]) in ("0612345678", "+81612345678")
    # Privacy: id asks the carrier to withhold the number from the called party (RFC 3323/3325); the
    # carrier itself still gets the identity in P-Asserted-Identity (trusted network), as it must for
    # tracing and emergency call-back.
    assert header(invite, "Privacy").lower() == "id"
    assert "+81312345678" in header(invite, "P-Asserted-Identity")


def test_186_presents_the_caller_id(e2e) -> None:
    invite = call_out(e2e, "101", "1860612345678", talk_ms=300)
    assert _uri_user(invite.splitlines()[0]) in ("0612345678", "+81612345678")
    assert "+81312345678" in header(invite, "P-Asserted-Identity")
    assert "id" not in header(invite, "Privacy").lower()
